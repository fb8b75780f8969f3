#include "lazylib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
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

/* The loader: one thread and its queue, for every library. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loaded = PTHREAD_COND_INITIALIZER;
static struct ir_lazylib *head;
static bool loader_running;

/* With mu held. */
static void
unqueue(struct ir_lazylib *l)
{
	struct ir_lazylib **p = &head;

	while (*p && *p != l)
		p = &(*p)->next;
	if (*p)
		*p = l->next;
	l->next = NULL;
	l->queued = false;
}

/* With mu held: load l on this thread (mu is let go meanwhile). */
static void
load_here(struct ir_lazylib *l)
{
	l->loading = true;
	pthread_mutex_unlock(&mu);
	load(l);
	pthread_mutex_lock(&mu);
	l->loading = false;
	l->done = true;
	pthread_cond_broadcast(&loaded);
}

static void *
loader(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (head) {
		struct ir_lazylib *l = head;

		unqueue(l);
		load_here(l);
	}
	loader_running = false;
	pthread_mutex_unlock(&mu);
	return NULL;
}

void
ir_lazylib_preload(struct ir_lazylib *l)
{
	struct ir_lazylib **end = &head;
	pthread_t thread;

	pthread_mutex_lock(&mu);
	if (!l->done && !l->loading && !l->queued) {
		while (*end)
			end = &(*end)->next;
		*end = l;
		l->queued = true;
		/* Detached: ir_lazylib_release() waits for the loads, not
		 * for the thread, which only returns after them. */
		if (!loader_running &&
		    !pthread_create(&thread, NULL, loader, NULL)) {
			pthread_detach(thread);
			loader_running = true;
		} else if (!loader_running) {
			unqueue(l); /* no thread: loaded when first needed */
		}
	}
	pthread_mutex_unlock(&mu);
}

int
ir_lazylib_ready(struct ir_lazylib *l, struct ir_ctx *ctx)
{
	int rc;

	pthread_mutex_lock(&mu);
	/* Not begun yet: sooner here than behind the queue. */
	if (l->queued)
		unqueue(l);
	if (!l->done && !l->loading)
		load_here(l);
	while (l->loading)
		pthread_cond_wait(&loaded, &mu);
	rc = l->rc;
	pthread_mutex_unlock(&mu);
	if (rc)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0, "%s", l->error);
	return 0;
}

void
ir_lazylib_release(struct ir_lazylib *l)
{
	pthread_mutex_lock(&mu);
	if (l->queued)
		unqueue(l);
	while (l->loading)
		pthread_cond_wait(&loaded, &mu);
	pthread_mutex_unlock(&mu);
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
