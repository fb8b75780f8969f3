/*
 * A shared library loaded when first needed (dlopen), or ahead of time on
 * a thread.
 *
 * libcurl and libarchive each pull a long chain of shared libraries (TLS,
 * LDAP, Kerberos; XML, ICU, C++) that made up half of a rollback's start
 * before it could stop anything.  Their adapters (health.c, archive.c)
 * load them through this instead of linking them: the rollback asks for
 * them at once, and they load on a second core while trading is stopped.
 *
 * Every library asked for ahead of time loads on one thread, one after
 * the other.  A thread per library made the caller wait: creating a
 * thread takes the loader's lock, which a dlopen() under way holds for
 * milliseconds.
 */
#ifndef IR_LAZYLIB_H
#define IR_LAZYLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct ir_lazylib {
	const char *soname;
	/* Run once the library is open, on whichever thread loads it: find
	 * the functions the adapter calls (dlsym on handle) and initialise
	 * the library.  0, or non-zero with why in error. */
	int (*bind)(void *handle, char *error, size_t cap);

	/* Private, under the loader's mutex. */
	struct ir_lazylib *next; /* in the loader thread's queue */
	bool queued, loading, done;
	int rc;
	char error[192];
};

#define IR_LAZYLIB_INIT(soname, bind)                                         \
	{ (soname), (bind), NULL, false, false, false, 0, "" }

/* Queue the library for the loader thread (started if none runs), unless
 * it is loaded, loading or queued already. */
void ir_lazylib_preload(struct ir_lazylib *l);

/* Wait for a load under way, or load now: 0 when the library is ready;
 * -ENOSYS with the reason in ctx when it could not be loaded. */
int ir_lazylib_ready(struct ir_lazylib *l, struct ir_ctx *ctx) IR_WUR;

/* Before the process exits (or l goes out of scope): take l off the
 * queue if its load has not begun, or wait for the load under way. */
void ir_lazylib_release(struct ir_lazylib *l);

/* For bind(): store dlsym(handle, name) in *slot (a function pointer).
 * false, with error set, when the library has no such symbol. */
bool ir_lazylib_find(void *handle, const char *name, void *slot,
		     char *error, size_t cap);

#endif
