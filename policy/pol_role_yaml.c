/*
 * pol_role_yaml.c - a stored role (its JSON form) written back as YAML for
 * people (pol_role.h, pol_role_json_yaml).
 *
 * libyaml's emitter writes the events of the JSON tree: objects as block
 * mappings, arrays as block sequences, strings with any style the emitter
 * finds safe (plain when YAML reads the text back unchanged, else quoted),
 * booleans as the plain words pol_role_parse wants. Any string is read back
 * by the parser as the same string whatever its style, and the option words
 * it wants plain (mfa's per_call, ...) are plain in YAML, so the output
 * parses as the same role.
 */
#include "policy/pol_role.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/err.h"

#define YAML_OUT_MAX (4 * POL_ROLE_MAX)
#define YAML_DEPTH_MAX 8   /* the schema's nesting is four */

/* Emits one event made by init (0 from libyaml is a failure). */
static int emit(yaml_emitter_t *e, yaml_event_t *ev, int made)
{
	if (!made) {
		return ZT_ERR_NOMEM;
	}
	return yaml_emitter_emit(e, ev) ? 0 : ZT_ERR_TOO_LARGE;
}

/* A plain-or-quoted scalar (plain_implicit lets the emitter choose plain). */
static int emit_scalar(yaml_emitter_t *e, const char *s)
{
	yaml_event_t ev;

	return emit(e, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)s, (int)strlen(s), 1, 1, YAML_ANY_SCALAR_STYLE));
}

static int emit_value(yaml_emitter_t *e, const cJSON *v, int depth)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[32];
	int r;

	if (depth > YAML_DEPTH_MAX) {
		return ZT_ERR_INVALID;
	}
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		int obj = cJSON_IsObject(v);

		r = obj ? emit(e, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE)) : emit(e, &ev,
		    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_SEQUENCE_STYLE));
		cJSON_ArrayForEach(c, v) {
			if (r == 0 && obj) {
				r = emit_scalar(e, c->string);
			}
			if (r == 0) {
				r = emit_value(e, c, depth + 1);
			}
		}
		if (r == 0) {
			r = obj ? emit(e, &ev, yaml_mapping_end_event_initialize(&ev)) :
			    emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
		}
		return r;
	}
	if (cJSON_IsString(v)) {
		return emit_scalar(e, v->valuestring);
	}
	if (cJSON_IsBool(v)) {
		return emit_scalar(e, cJSON_IsTrue(v) ? "true" : "false");
	}
	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		return emit_scalar(e, num);
	}
	return ZT_ERR_INVALID;
}

int pol_role_json_yaml(const cJSON *j, char **out)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	unsigned char *text = NULL;
	size_t written = 0;
	int r;

	*out = NULL;
	if (!cJSON_IsObject(j)) {
		return ZT_ERR_INVALID;
	}
	if ((text = malloc(YAML_OUT_MAX + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!yaml_emitter_initialize(&e)) {
		free(text);
		return ZT_ERR_NOMEM;
	}
	yaml_emitter_set_output_string(&e, text, YAML_OUT_MAX, &written);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if ((r = emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))) ==
	    0 && (r = emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
	    1))) == 0 && (r = emit_value(&e, j, 0)) == 0 &&
	    (r = emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1))) == 0) {
		r = emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
	}
	yaml_emitter_delete(&e);
	if (r != 0) {
		free(text);
		return r;
	}
	text[written] = '\0';
	*out = (char *)text;
	return 0;
}
