#include "lazylib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
load(struct ir_lazylib *l)
{
	void *handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);

	if (!handle) {
		snprintf(l->error, sizeof(l->error), "cannot load %s: %s",
			 l->soname, dlerror());
		l->rc = -ENOSYS;
		return;
	}
	/* Never closed: the process uses it until it exits. */
	l->rc = l->bind(handle, l->error, sizeof(l->error)) ? -ENOSYS : 0;
}

static void *
load_thread(void *arg)
{
	load(arg);
	return NULL;
}

void
ir_lazylib_preload(struct ir_lazylib *l)
{
	pthread_mutex_lock(&l->mu);
	if (!l->done && !l->running &&
	    !pthread_create(&l->thread, NULL, load_thread, l))
		l->running = true;
	pthread_mutex_unlock(&l->mu);
}

/* With l->mu held: the load finished, by the thread or here. */
static void
finish(struct ir_lazylib *l, bool load_now)
{
	if (l->running) {
		pthread_join(l->thread, NULL);
		l->running = false;
		l->done = true;
	} else if (!l->done && load_now) {
		load(l);
		l->done = true;
	}
}

int
ir_lazylib_ready(struct ir_lazylib *l, struct ir_ctx *ctx)
{
	int rc;

	pthread_mutex_lock(&l->mu);
	finish(l, true);
	rc = l->rc;
	pthread_mutex_unlock(&l->mu);
	if (rc)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0, "%s", l->error);
	return 0;
}

void
ir_lazylib_release(struct ir_lazylib *l)
{
	pthread_mutex_lock(&l->mu);
	finish(l, false);
	pthread_mutex_unlock(&l->mu);
}

bool
ir_lazylib_find(void *handle, const char *name, void *slot, char *error,
		size_t cap)
{
	void *sym = dlsym(handle, name);

	if (!sym) {
		snprintf(error, cap, "the library has no %s", name);
		return false;
	}
	/* POSIX: a dlsym() result converts to a function pointer. */
	memcpy(slot, &sym, sizeof(sym));
	return true;
}
