/*
 * SIGINT, SIGTERM and SIGHUP while a command changes the deployment: the
 * handler only counts; the executor polls (cli_interrupted) and lets the
 * running step's command finish, records the interruption and stops.  A
 * second SIGINT asks for the command's process group to be ended.  The
 * commands run in process groups of their own, so the terminal's Ctrl-C
 * never reaches them, and nothing is forwarded.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_SIGNALS (sizeof(signals) / sizeof(*signals))

static volatile sig_atomic_t first_signal;
static volatile sig_atomic_t sigints;
static volatile sig_atomic_t say_on_tty;
static struct sigaction saved[N_SIGNALS];
static bool armed[N_SIGNALS];

static void
say(const char *msg)
{
	ssize_t n = write(STDERR_FILENO, msg, strlen(msg));

	(void)n; /* nothing to do about a failed write in a handler */
}

static void
on_signal(int sig)
{
	if (!first_signal)
		first_signal = sig;
	if (sig == SIGINT)
		sigints = sigints + 1;
	if (!say_on_tty)
		return;
	/* An operator at a terminal sees at once that the key was heard. */
	if (sig == SIGINT && sigints == 2)
		say("\nincident: second interrupt: ending the running "
		    "command\n");
	else if (first_signal == sig && (sig != SIGINT || sigints == 1))
		say("\nincident: interrupt received: the running command "
		    "is let finish, no further step begins (Ctrl-C again "
		    "ends the command)\n");
}

void
cli_interrupt_arm(bool tty)
{
	struct sigaction sa;
	size_t i;

	first_signal = 0;
	sigints = 0;
	say_on_tty = tty;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* Our waits poll; a restarted read or fsync in a library is what
	 * we want. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_SIGNALS; i++)
		sigaddset(&sa.sa_mask, signals[i]);
	for (i = 0; i < N_SIGNALS; i++) {
		armed[i] = false;
		if (sigaction(signals[i], NULL, &saved[i]))
			continue;
		/* Ignored when we started (nohup, a background job without
		 * job control): the caller meant it. */
		if (saved[i].sa_handler == SIG_IGN)
			continue;
		armed[i] = !sigaction(signals[i], &sa, NULL);
	}
}

void
cli_interrupt_disarm(void)
{
	size_t i;

	for (i = 0; i < N_SIGNALS; i++) {
		if (armed[i])
			sigaction(signals[i], &saved[i], NULL);
		armed[i] = false;
	}
}

int
cli_interrupted(void *payload, bool *kill)
{
	(void)payload;
	if (kill)
		*kill = sigints >= 2;
	return first_signal;
}
