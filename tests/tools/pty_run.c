/*
 * pty_run.c - a test-only terminal: runs a command on a new pseudo-terminal
 * as a person's terminal would, so the end-to-end tests can drive
 * `ztctl ssh` through a real PTY (raw mode, window changes, the terminal
 * restored at the end).
 *
 *   pty_run COLS ROWS COLS2 ROWS2 -- COMMAND [ARG...]
 *
 * The terminal starts COLSxROWS in the usual cooked mode. Standard input
 * is typed into it, what it shows is written to standard output. SIGUSR1
 * changes its size to COLS2xROWS2 (the kernel then sends the command's
 * process group SIGWINCH, as a terminal emulator's resize does). When the
 * command ended, the last line on standard error says whether the
 * terminal is back in cooked mode: "pty_run: exit N, terminal cooked" or
 * "... terminal raw". Exits with the command's status (128+signal when
 * a signal ended it), 125 when it could not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t resize_asked;

static void on_usr1(int sig)
{
	(void)sig;
	resize_asked = 1;
}

static void copy(int from, int to, int *open_)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0) {
		*open_ = 0;
		return;
	}
	for (ssize_t done = 0; done < n;) {
		ssize_t w = write(to, buf + done, (size_t)(n - done));

		if (w <= 0) {
			return;
		}
		done += w;
	}
}

int main(int argc, char **argv)
{
	struct winsize ws, ws2;
	struct termios t;
	int master, slave, status = 0, in_open = 1, out_open = 1;
	pid_t pid;

	if (argc < 7 || strcmp(argv[5], "--") != 0) {
		fprintf(stderr, "usage: pty_run COLS ROWS COLS2 ROWS2 -- COMMAND [ARG...]\n");
		return 2;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)atoi(argv[1]);
	ws.ws_row = (unsigned short)atoi(argv[2]);
	ws2 = ws;
	ws2.ws_col = (unsigned short)atoi(argv[3]);
	ws2.ws_row = (unsigned short)atoi(argv[4]);
	if (openpty(&master, &slave, NULL, NULL, &ws) != 0) {
		perror("pty_run: openpty");
		return 125;
	}
	signal(SIGUSR1, on_usr1);
	if ((pid = fork()) == 0) {
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		close(slave);
		signal(SIGUSR1, SIG_DFL);
		execvp(argv[6], argv + 6);
		_exit(125);
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = out_open ? master : -1, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
		};

		if (resize_asked) {
			resize_asked = 0;
			ioctl(master, TIOCSWINSZ, &ws2);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			break;
		}
		if (poll(p, 2, 50) <= 0) {
			continue;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			copy(master, 1, &out_open);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			copy(0, master, &in_open);
		}
	}
	/* What the command wrote last, then how it left the terminal. */
	fcntl(master, F_SETFL, O_NONBLOCK);
	while (out_open) {
		char buf[4096];
		ssize_t n = read(master, buf, sizeof(buf));

		if (n <= 0 || write(1, buf, (size_t)n) != n) {
			break;
		}
	}
	tcgetattr(slave, &t);
	fprintf(stderr, "pty_run: exit %d, terminal %s\n", WIFEXITED(status) ?
	    WEXITSTATUS(status) : 128 + WTERMSIG(status),
	    (t.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO) ? "cooked" : "raw");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
