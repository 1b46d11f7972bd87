/*
 * cli_tty.h - ztctl's own terminal for `ztctl ssh`: raw mode, restored on
 * every way out, and its size.
 *
 * cli_tty_raw() puts standard input's terminal in raw mode (as OpenSSH's
 * client does: no echo, no line editing, no signals from keys, no output
 * processing) and makes sure it comes back: at exit (atexit), and when a
 * signal that ends the process (SIGTERM, SIGHUP, SIGINT, SIGQUIT) arrives,
 * whose handler restores the terminal and lets the signal end the process
 * as it would have. Only a SIGKILL of ztctl itself leaves the terminal raw.
 */
#ifndef ZT_CLI_TTY_H
#define ZT_CLI_TTY_H

/* Raw mode on fd 0, when it is a terminal. 0, or ZT_ERR_IO (not a
 * terminal: nothing changed). */
int cli_tty_raw(void);
/* Back to how the terminal was (a no-op when not raw). Safe from a signal
 * handler. */
void cli_tty_restore(void);
/* The size of the terminal on fd (columns and rows): 0, or ZT_ERR_IO. */
int cli_tty_size(int fd, int *cols, int *rows);

#endif
