/*
 * cli_prompt.h - reading passwords and one-time codes from the terminal or
 * from standard input.
 *
 * Secrets are read byte by byte with read(2), never through stdio, so no
 * copy is left in a FILE buffer and lines after the first stay unread for
 * the next call (ztctl enroll --password-stdin reads the password, then
 * later the first one-time code, from the same pipe). Lines are bounded;
 * the newline (and a CR before it) is stripped. Buffers that held a secret
 * are wiped on every path, including failures.
 */
#ifndef ZT_CLI_PROMPT_H
#define ZT_CLI_PROMPT_H

#include <stddef.h>

#define CLI_PROMPT_MAX 1025 /* a 1024-byte password and its NUL */

/* Reads one line from fd into out (NUL-terminated, newline stripped).
 * 0, ZT_ERR_TRUNCATED (end of input before any byte), ZT_ERR_TOO_LARGE
 * (the line does not fit in outsz - 1 bytes), ZT_ERR_EMBEDDED_NUL or
 * ZT_ERR_IO. A last line without a newline is accepted. */
int cli_read_line(int fd, char *out, size_t outsz);

/* Writes prompt to /dev/tty and reads one line from it, with echo turned off
 * unless echo is set (the terminal is restored afterwards, also when a
 * signal such as ^C interrupts; the signal is then delivered again).
 * 0, ZT_ERR_NOT_FOUND (no controlling terminal), or as cli_read_line. */
int cli_prompt_tty(const char *prompt, int echo, char *out, size_t outsz);

/* Asks for one line: the next line of standard input when from_stdin is set
 * (prompt is then not shown), else prompt on the terminal as
 * cli_prompt_tty() with echo. out is wiped on every failure.
 * 0, or:
 *   ZT_ERR_TRUNCATED   end of input before any byte (standard input closed,
 *                      or ^D at the prompt): the user gave nothing;
 *   ZT_ERR_NOT_FOUND   no controlling terminal (only when !from_stdin);
 *   ZT_ERR_TOO_LARGE, ZT_ERR_EMBEDDED_NUL, ZT_ERR_IO, ZT_ERR_INVALID as
 *   cli_read_line(). */
int cli_ask(const char *prompt, int echo, int from_stdin, char *out, size_t outsz);

#endif
