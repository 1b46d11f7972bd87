/*
 * cli_prompt.c - secret and line input for ztctl (see cli_prompt.h).
 *
 * Echo is switched off with termios on /dev/tty itself, so a password is
 * never shown even when stdout or stderr is redirected. Signals that would
 * end or stop the process while echo is off are caught just long enough to
 * put the terminal back, then delivered again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli_prompt.h"
#include "common/crypto.h"
#include "common/err.h"

static const int tty_signals[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define NSIG_TTY (sizeof(tty_signals) / sizeof(tty_signals[0]))

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

int cli_read_line(int fd, char *out, size_t outsz)
{
	size_t len = 0;
	ssize_t got;
	char c;
	int r;

	if (out == NULL || outsz == 0) {
		return ZT_ERR_INVALID;
	}
	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0) {
			/* EINTR is only retried when no prompt signal arrived. */
			if (errno == EINTR && got_signal == 0) {
				continue;
			}
			r = ZT_ERR_IO;
			goto out;
		}
		if (got == 0) {
			r = len == 0 ? ZT_ERR_TRUNCATED : 0;
			goto out;
		}
		if (c == '\n') {
			r = 0;
			goto out;
		}
		if (c == '\0') {
			r = ZT_ERR_EMBEDDED_NUL;
			goto out;
		}
		if (len + 1 >= outsz) {
			r = ZT_ERR_TOO_LARGE;
			goto out;
		}
		out[len++] = c;
	}
out:
	c = 0;
	if (r == 0) {
		if (len > 0 && out[len - 1] == '\r') {
			len--;
		}
		out[len] = '\0';
	} else {
		crypto_wipe(out, outsz);
	}
	return r;
}

int cli_prompt_tty(const char *prompt, int echo, char *out, size_t outsz)
{
	struct sigaction sa, saved[NSIG_TTY];
	struct termios old, quiet;
	int fd, r, restore = 0, sig;
	size_t i;

	if (out == NULL || outsz == 0) {
		return ZT_ERR_INVALID;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		return ZT_ERR_NOT_FOUND;
	}
	got_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: read() must return on a signal */
	for (i = 0; i < NSIG_TTY; i++) {
		(void)sigaction(tty_signals[i], &sa, &saved[i]);
	}
	if (!echo && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
			restore = 1;
		}
	}
	if (prompt != NULL) {
		(void)!write(fd, prompt, strlen(prompt));
	}
	r = cli_read_line(fd, out, outsz);
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		/* The user's Enter was not echoed. */
		(void)!write(fd, "\n", 1);
	}
	close(fd);
	sig = got_signal;
	for (i = 0; i < NSIG_TTY; i++) {
		(void)sigaction(tty_signals[i], &saved[i], NULL);
	}
	if (sig != 0) {
		crypto_wipe(out, outsz);
		r = ZT_ERR_IO;
		(void)kill(getpid(), sig);
	}
	return r;
}

int cli_ask(const char *prompt, int echo, int from_stdin, char *out, size_t outsz)
{
	int r;

	if (out == NULL || outsz == 0) {
		return ZT_ERR_INVALID;
	}
	if (from_stdin) {
		r = cli_read_line(STDIN_FILENO, out, outsz);
	} else {
		r = cli_prompt_tty(prompt, echo, out, outsz);
	}
	if (r != 0) {
		/* cli_prompt_tty() leaves out untouched when there is no terminal. */
		crypto_wipe(out, outsz);
	}
	return r;
}
