/*
 * cli_tty.c - raw mode and the window size (cli_tty.h).
 */
#include "cli/cli_tty.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"

static struct termios saved;
static volatile sig_atomic_t is_raw;
static int hooked;

void cli_tty_restore(void)
{
	if (is_raw) {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
		is_raw = 0;
	}
}

/* A signal that ends the process: the terminal first, then the signal's
 * own effect. */
static void on_fatal(int sig)
{
	cli_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int cli_tty_raw(void)
{
	static const int fatal[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0) {
		return ZT_ERR_IO;
	}
	if (!hooked) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
			sigaction(fatal[i], &sa, NULL);
		}
		atexit(cli_tty_restore);
		hooked = 1;
	}
	t = saved;
	cfmakeraw(&t);
	/* Reads return as soon as a byte is there. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) != 0) {
		return ZT_ERR_IO;
	}
	is_raw = 1;
	return 0;
}

int cli_tty_size(int fd, int *cols, int *rows)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) {
		return ZT_ERR_IO;
	}
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}
