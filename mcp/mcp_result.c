/*
 * mcp_result.c - building CallToolResult objects for tool handlers:
 * {"content": [...], "isError": bool} with text, image and audio blocks.
 * Handlers may add anything else the spec allows (structuredContent,
 * resource and resource_link blocks, annotations) with plain cJSON.
 */
#include "mcp/mcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "mcp/mcp_int.h"

/* Longest text mcp_result_error() formats; longer messages are cut. */
#define MCP_RESULT_ERROR_MAX 4096

void mcp_text_cut(char *buf, size_t size, int written)
{
	size_t n, k, need;
	unsigned char lead;

	if (size == 0) {
		return;
	}
	if (written < 0) {
		buf[0] = '\0';
		return;
	}
	if ((size_t)written < size) {
		return;
	}
	/* Cut at a character boundary, not inside a UTF-8 sequence: count
	 * the trailing continuation bytes and drop them with their lead byte
	 * unless the sequence is complete. */
	n = size - 1;
	k = 0;
	while (k < n && ((unsigned char)buf[n - 1 - k] & 0xc0) == 0x80) {
		k++;
	}
	if (k < n) {
		lead = (unsigned char)buf[n - 1 - k];
		need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
		if (need != k + 1) {
			n -= k + 1;
		}
	} else {
		n = 0;
	}
	buf[n] = '\0';
}

cJSON *mcp_result_new(int is_error)
{
	cJSON *r = NULL;

	if ((r = cJSON_CreateObject()) == NULL) {
		return NULL;
	}
	if (cJSON_AddArrayToObject(r, "content") == NULL ||
	    cJSON_AddBoolToObject(r, "isError", is_error ? 1 : 0) == NULL) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

/* Appends block to result's content (block taken). */
static int result_append(cJSON *result, cJSON *block)
{
	cJSON *content = NULL;

	content = cJSON_GetObjectItemCaseSensitive(result, "content");
	if (!cJSON_IsArray(content)) {
		cJSON_Delete(block);
		return ZT_ERR_INVALID;
	}
	if (!cJSON_AddItemToArray(content, block)) {
		cJSON_Delete(block);
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int mcp_result_add_text(cJSON *result, const char *text)
{
	cJSON *b = NULL;

	if (result == NULL || text == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "type", "text") == NULL ||
	    cJSON_AddStringToObject(b, "text", text) == NULL) {
		cJSON_Delete(b);
		return ZT_ERR_NOMEM;
	}
	return result_append(result, b);
}

int mcp_result_add_media(cJSON *result, const char *type, const char *base64, const char *mime)
{
	cJSON *b = NULL;

	if (result == NULL || type == NULL || base64 == NULL || mime == NULL ||
	    (strcmp(type, "image") != 0 && strcmp(type, "audio") != 0)) {
		return ZT_ERR_INVALID;
	}
	if ((b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "type", type) == NULL ||
	    cJSON_AddStringToObject(b, "data", base64) == NULL ||
	    cJSON_AddStringToObject(b, "mimeType", mime) == NULL) {
		cJSON_Delete(b);
		return ZT_ERR_NOMEM;
	}
	return result_append(result, b);
}

int mcp_result_add_blob(cJSON *result, const char *uri, const char *base64, const char *mime)
{
	cJSON *b = NULL, *res = NULL;

	if (result == NULL || uri == NULL || base64 == NULL || mime == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "type", "resource") == NULL ||
	    (res = cJSON_AddObjectToObject(b, "resource")) == NULL ||
	    cJSON_AddStringToObject(res, "uri", uri) == NULL ||
	    cJSON_AddStringToObject(res, "mimeType", mime) == NULL ||
	    cJSON_AddStringToObject(res, "blob", base64) == NULL) {
		cJSON_Delete(b);
		return ZT_ERR_NOMEM;
	}
	return result_append(result, b);
}

int mcp_result_add_link(cJSON *result, const char *uri, const char *name, const char *mime)
{
	cJSON *b = NULL;

	if (result == NULL || uri == NULL || name == NULL || mime == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((b = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(b, "type", "resource_link") == NULL ||
	    cJSON_AddStringToObject(b, "uri", uri) == NULL ||
	    cJSON_AddStringToObject(b, "name", name) == NULL ||
	    cJSON_AddStringToObject(b, "mimeType", mime) == NULL) {
		cJSON_Delete(b);
		return ZT_ERR_NOMEM;
	}
	return result_append(result, b);
}

int mcp_result_structured(cJSON *sc, cJSON **result)
{
	char *text = sc != NULL ? cJSON_PrintUnformatted(sc) : NULL;

	*result = mcp_result_new(0);
	if (text == NULL || *result == NULL || mcp_result_add_text(*result, text) != 0) {
		free(text);
		cJSON_Delete(sc);
		cJSON_Delete(*result);
		*result = NULL;
		return ZT_ERR_NOMEM;
	}
	free(text);
	cJSON_AddItemToObject(*result, "structuredContent", sc);
	return 0;
}

cJSON *mcp_result_error(const char *fmt, ...)
{
	char text[MCP_RESULT_ERROR_MAX];
	cJSON *r = NULL;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mcp_text_cut(text, sizeof(text), w);
	if ((r = mcp_result_new(1)) == NULL) {
		return NULL;
	}
	if (mcp_result_add_text(r, text) != 0) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}
