/*
 * Waiting for the space bar (replay --pause-at-markers).  The terminal is
 * in raw mode (keys one at a time, no echo, no signals from the keyboard)
 * only while a wait lasts; it is put back before the wait returns, and
 * before a signal that arrives meanwhile ends the process: Ctrl-C, read
 * as a key, is raised as SIGINT once the mode is back.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_SIGNALS (sizeof(signals) / sizeof(*signals))

static int tty_fd = -1;
static bool own_fd;
static struct termios saved;
static volatile sig_atomic_t raw_on;
static struct sigaction old_action[N_SIGNALS];

static void
restore(void)
{
	if (raw_on) {
		tcsetattr(tty_fd, TCSAFLUSH, &saved);
		raw_on = 0;
	}
}

/* Put the terminal back, then die of the signal as if we had no handler
 * (the exit status tells the shell which). */
static void
on_signal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

bool
cli_pause_open(void)
{
	if (tty_fd >= 0)
		return true;
	if (isatty(STDIN_FILENO)) {
		tty_fd = STDIN_FILENO;
		own_fd = false;
	} else {
		tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		own_fd = true;
	}
	if (tty_fd >= 0 && !tcgetattr(tty_fd, &saved))
		return true;
	cli_pause_close();
	return false;
}

void
cli_pause_close(void)
{
	restore();
	if (own_fd && tty_fd >= 0)
		close(tty_fd);
	tty_fd = -1;
	own_fd = false;
}

/* The key that was pressed: ' ', or -1 when the terminal is gone. */
static int
read_key(void)
{
	unsigned char c;

	for (;;) {
		ssize_t n = read(tty_fd, &c, 1);

		if (n == 1)
			return c;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

int
cli_pause_wait(void (*prompt)(void *payload), void *payload)
{
	struct termios raw = saved;
	struct sigaction sa;
	int key, rc = 0;
	size_t i;

	if (tty_fd < 0)
		return -ENOTTY;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_SIGNALS; i++)
		sigaction(signals[i], &sa, &old_action[i]);
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* Keys pressed before the prompt are dropped (TCSAFLUSH): a space
	 * typed ahead must not skip a pause that was not yet seen. */
	raw_on = 1;
	if (tcsetattr(tty_fd, TCSAFLUSH, &raw)) {
		raw_on = 0;
		rc = -ENOTTY;
	}
	if (prompt)
		prompt(payload);
	while (!rc) {
		key = read_key();
		if (key == ' ')
			break;
		if (key < 0)
			rc = -EIO;
		else if (key == 0x03) /* Ctrl-C */
			on_signal(SIGINT);
		else if (key == 0x1c) /* Ctrl-\ */
			on_signal(SIGQUIT);
	}
	restore();
	for (i = 0; i < N_SIGNALS; i++)
		sigaction(signals[i], &old_action[i], NULL);
	return rc;
}
