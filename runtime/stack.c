/* SPDX-License-Identifier: MIT */
/*
 * runtime/stack.c - coroutine stacks: mmap'd arenas, pooled per size, with
 * a guard page below each stack that costs no VMA.
 *
 * The VMA budget. vm.max_map_count defaults to 65530, and an mprotect'ed
 * guard page splits a mapping into two VMAs per stack, so "one mmap + guard
 * per stack" tops out near 32,000 coroutines. coil instead carves many
 * stacks out of one arena mapping (one VMA for up to 1024 stacks) and, on
 * Linux >= 6.13, marks each stack's lowest page with MADV_GUARD_INSTALL: a
 * guard marker in the page table that faults like PROT_NONE but does not
 * split the VMA. A million stacks then take about a thousand VMAs.
 * On older kernels coil falls back to mprotect guards while they fit in a
 * process-wide budget of a quarter of vm.max_map_count, and past it hands
 * out unguarded stacks (logged once); a canary word at the bottom of every
 * stack is checked when its task ends either way.
 *
 * Memory. Arenas are mapped MAP_NORESERVE: a stack costs address space, and
 * RSS only for the pages its task touches (a sleeping task: one page).
 * Freed stacks go back to their arena's free list, most recently freed
 * first, so a reused stack is already faulted in. Faulting a fresh page
 * costs microseconds on virtual machines, so arenas are not unmapped while
 * the runtime lives (mapping them again per burst of tasks made spawn 20x
 * slower); instead coil__stack_trim(), run by the loop when idle at most
 * once a second, gives the pages of arenas that stayed empty for a whole
 * period back with MADV_FREE: the kernel reclaims them only under memory
 * pressure, and until then reuse costs no fault. Guard markers survive it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coil_config.h"
#include "internal.h"
#include "sanitizer.h"


#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif

#define COIL__STACK_CANARY 0xc011c011deadbeefull
#define ARENA_MIN_SLOTS 16u
#define ARENA_MAX_SLOTS 1024u

enum guard_mode { GUARD_NONE = 0, GUARD_MPROTECT = 1, GUARD_MADVISE = 2 };

struct coil__arena {
	struct coil__arena *prev, *next; /* the class's list of all arenas */
	struct coil__arena *pnext, *pprev; /* its list of arenas with room */
	struct stack_class *cls;
	char *base;          /* mapping start */
	size_t map_len;
	uint32_t nslots;
	uint32_t used;       /* slots handed out */
	uint32_t fresh;      /* slots [fresh, nslots) never handed out yet */
	uint32_t nfree;      /* entries in free_idx */
	bool in_partial;
	bool all_guarded;    /* every slot's guard installed at creation */
	bool trim_candidate; /* empty at the last trim pass */
	bool trimmed;        /* pages handed back with MADV_FREE */
	uint32_t *free_idx;  /* freed slots, LIFO */
	uint8_t *guarded;    /* per slot: has a guard page */
	unsigned *vg_id;     /* per slot: Valgrind stack id (0 = none) */
};

struct stack_class {
	struct stack_class *next; /* the pool's classes, most used first */
	size_t usable;       /* usable bytes per stack */
	size_t slot;         /* usable + guard page */
	struct coil__arena *all;
	struct coil__arena *partial;
	uint32_t next_slots; /* slots in the next arena (geometric growth) */
	uint32_t empty;      /* arenas of this class with no stack in use */
};

struct coil__stack_pool {
	struct stack_class *classes; /* one per distinct stack size */
	enum guard_mode guard;
	bool want_guard;     /* false with COIL_OPT_NO_GUARD_PAGES */
	int pidfd;           /* ours, for process_madvise; -1 if none */
	bool warned_unguarded;
};

/* Process-wide: whether MADV_GUARD_INSTALL works (-1 = not probed yet). */
static atomic_int madv_guard_works = -1;
/* Process-wide count of mprotect guards, against the VMA budget. */
static atomic_long mprotect_guards;
static long mprotect_guard_budget = -1;

static long read_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	long v = 65530;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

int coil__stack_pool_init(struct coil_rt *rt)
{
	struct coil__stack_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->guard = (rt->opts.flags & COIL_OPT_NO_GUARD_PAGES) ? GUARD_NONE :
								 GUARD_MADVISE;
	p->want_guard = p->guard != GUARD_NONE;
	p->pidfd = -1;
#ifdef SYS_pidfd_open
	if (p->guard == GUARD_MADVISE)
		p->pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
#endif
	if (p->guard && atomic_load(&madv_guard_works) == 0)
		p->guard = GUARD_MPROTECT;
	rt->stacks = p;
	rt->stats.guard_pages = (int)p->guard;
	return 0;
}

/* Free @a's bookkeeping and, unless @keep_mapping, its memory. */
static void arena_unmap(struct coil__arena *a, bool keep_mapping)
{
	uint32_t i;

	for (i = 0; i < a->fresh; i++) {
		if (a->vg_id[i])
			VALGRIND_STACK_DEREGISTER(a->vg_id[i]);
		if (a->guarded[i] == GUARD_MPROTECT)
			atomic_fetch_sub(&mprotect_guards, 1);
	}
	if (!keep_mapping)
		munmap(a->base, a->map_len);
	free(a->free_idx);
	free(a->guarded);
	free(a->vg_id);
	free(a);
}

void coil__stack_pool_fini(struct coil_rt *rt, bool keep_mappings)
{
	struct coil__stack_pool *p = rt->stacks;
	struct coil__arena *a, *next;
	struct stack_class *c;

	if (!p)
		return;
	while ((c = p->classes)) {
		p->classes = c->next;
		for (a = c->all; a; a = next) {
			next = a->next;
			arena_unmap(a, keep_mappings);
		}
		free(c);
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
	rt->stacks = NULL;
}

static struct stack_class *class_for(struct coil_rt *rt, size_t usable)
{
	struct coil__stack_pool *p = rt->stacks;
	struct stack_class *c;

	/* Few sizes in practice, the default first: a short walk. */
	for (c = p->classes; c; c = c->next) {
		if (c->usable == usable)
			return c;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->usable = usable;
	c->slot = usable + rt->page_size;
	c->next_slots = ARENA_MIN_SLOTS;
	c->next = p->classes;
	p->classes = c;
	return c;
}

static void partial_add(struct stack_class *c, struct coil__arena *a)
{
	a->pprev = NULL;
	a->pnext = c->partial;
	if (c->partial)
		c->partial->pprev = a;
	c->partial = a;
	a->in_partial = true;
}

static void partial_del(struct stack_class *c, struct coil__arena *a)
{
	if (a->pprev)
		a->pprev->pnext = a->pnext;
	else
		c->partial = a->pnext;
	if (a->pnext)
		a->pnext->pprev = a->pprev;
	a->in_partial = false;
}

/*
 * Install the guard page of every slot of a new arena in one system call
 * (process_madvise accepts MADV_GUARD_INSTALL since 6.13): about 0.6 us a
 * slot on a VM instead of 1 us through one madvise per slot. Any failure
 * (older kernel, Valgrind) leaves the slots to install_guard() one by one.
 */
static void arena_guard_all(struct coil_rt *rt, struct coil__arena *a)
{
	struct coil__stack_pool *p = rt->stacks;
	struct iovec *iov;
	uint32_t i;
	long ret = -1;

	if (p->guard != GUARD_MADVISE || p->pidfd < 0 || a->nslots > 1024)
		return;
	iov = malloc(a->nslots * sizeof(*iov));
	if (!iov)
		return;
	for (i = 0; i < a->nslots; i++) {
		iov[i].iov_base = a->base + (size_t)i * a->cls->slot;
		iov[i].iov_len = rt->page_size;
	}
#ifdef SYS_process_madvise
	ret = syscall(SYS_process_madvise, p->pidfd, iov, a->nslots,
		      MADV_GUARD_INSTALL, 0);
#endif
	free(iov);
	if (ret != (long)(a->nslots * rt->page_size))
		return;
	for (i = 0; i < a->nslots; i++)
		a->guarded[i] = GUARD_MADVISE;
	a->all_guarded = true;
	atomic_store(&madv_guard_works, 1);
}

/*
 * Map an arena of up to c->next_slots slots. Where that much address space
 * is refused (RLIMIT_AS, strict overcommit: a class of 1 GiB stacks would
 * start with a 16 GiB arena), try half as many slots, down to one: the
 * stack asked for may well fit on its own. Returns the slot count mapped
 * at *@base, or 0.
 */
static uint32_t arena_map(struct stack_class *c, char **base)
{
	uint32_t n = c->next_slots;
	void *m;

	for (; n; n /= 2) {
		m = mmap(NULL, (size_t)n * c->slot, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m != MAP_FAILED) {
			*base = m;
			return n;
		}
	}
	return 0;
}

static int arena_create(struct coil_rt *rt, struct stack_class *c)
{
	struct coil__arena *a = calloc(1, sizeof(*a));
	uint32_t n;

	if (!a)
		return -ENOMEM;
	n = arena_map(c, &a->base);
	if (!n) {
		/* An address-space limit (RLIMIT_AS) shows up here. */
		free(a);
		return -ENOMEM;
	}
	a->map_len = (size_t)n * c->slot;
	a->free_idx = malloc(n * sizeof(*a->free_idx));
	a->guarded = calloc(n, sizeof(*a->guarded));
	a->vg_id = calloc(n, sizeof(*a->vg_id));
	if (!a->free_idx || !a->guarded || !a->vg_id)
		goto out_unmap;
	a->cls = c;
	a->nslots = n;
	a->next = c->all;
	if (c->all)
		c->all->prev = a;
	c->all = a;
	partial_add(c, a);
	c->empty++;
	arena_guard_all(rt, a);
	/* Grow geometrically, but not past what the last mapping could get. */
	if (n < c->next_slots)
		c->next_slots = n;
	else if (c->next_slots < ARENA_MAX_SLOTS)
		c->next_slots *= 2;
	rt->stats.stack_bytes_mapped += a->map_len;
	return 0;
out_unmap:
	munmap(a->base, a->map_len);
	free(a->free_idx);
	free(a->guarded);
	free(a->vg_id);
	free(a);
	return -ENOMEM;
}

static bool take_mprotect_budget(void)
{
	if (mprotect_guard_budget < 0)
		mprotect_guard_budget = read_max_map_count() / 4;
	if (atomic_fetch_add(&mprotect_guards, 1) < mprotect_guard_budget)
		return true;
	atomic_fetch_sub(&mprotect_guards, 1);
	return false;
}

/* Put a guard page at @page (the lowest page of a fresh slot). */
static enum guard_mode install_guard(struct coil_rt *rt, char *page)
{
	struct coil__stack_pool *p = rt->stacks;

	if (p->guard == GUARD_MADVISE) {
		if (madvise(page, rt->page_size, MADV_GUARD_INSTALL) == 0) {
			atomic_store(&madv_guard_works, 1);
			return GUARD_MADVISE;
		}
		/* EINVAL: kernel < 6.13. Switch this pool to mprotect. */
		atomic_store(&madv_guard_works, 0);
		p->guard = GUARD_MPROTECT;
		rt->stats.guard_pages = GUARD_MPROTECT;
	}
	if (p->guard == GUARD_MPROTECT) {
		if (take_mprotect_budget() &&
		    mprotect(page, rt->page_size, PROT_NONE) == 0)
			return GUARD_MPROTECT;
		if (!p->warned_unguarded) {
			p->warned_unguarded = true;
			coil__log(rt, "coil: no guard pages for further stacks: "
				  "this kernel lacks MADV_GUARD_INSTALL (6.13) "
				  "and mprotect guards would exhaust "
				  "vm.max_map_count; overflows are caught "
				  "only by a canary when a task ends");
		}
	}
	return GUARD_NONE;
}

static uint32_t arena_take_slot(struct coil_rt *rt, struct coil__arena *a)
{
	uint32_t i;
	char *slot;

	if (a->nfree)
		return a->free_idx[--a->nfree];
	i = a->fresh++;
	slot = a->base + (size_t)i * a->cls->slot;
	if (!a->all_guarded)
		a->guarded[i] = (uint8_t)install_guard(rt, slot);
	a->vg_id[i] = VALGRIND_STACK_REGISTER(slot + rt->page_size,
					      slot + a->cls->slot);
	rt->stats.stacks_mapped++;
	return i;
}

int coil__stack_alloc(struct coil_rt *rt, size_t size, struct coil__stack *st)
{
	size_t usable = (size + rt->page_size - 1) & ~(rt->page_size - 1);
	struct stack_class *c;
	struct coil__arena *a;
	uint32_t i;
	int err;

	if (usable < rt->page_size || usable > ((size_t)1 << 30))
		return -EINVAL;
	c = class_for(rt, usable);
	if (!c)
		return -ENOMEM;
	if (!c->partial) {
		err = arena_create(rt, c);
		if (err)
			return err;
	}
	a = c->partial;
	if (a->used == 0)
		c->empty--;
	a->trim_candidate = false;
	a->trimmed = false;
	i = arena_take_slot(rt, a);
	if (++a->used == a->nslots)
		partial_del(c, a);
	st->arena = a;
	st->slot = i;
	st->lo = a->base + (size_t)i * c->slot + rt->page_size;
	st->size = usable;
	coil__san_stack_reuse(st->lo, st->size);
	/*
	 * A stack that should have had a guard page but got none (VMA budget)
	 * gets a canary at the bottom that catches overflows after the fact.
	 * Guarded stacks, and stacks the user asked to leave unguarded
	 * (COIL_OPT_NO_GUARD_PAGES: density first), skip it: it would cost a
	 * second page of RSS per stack.
	 */
	st->canary = a->guarded[i] == GUARD_NONE && rt->stacks->want_guard;
	if (st->canary)
		*(uint64_t *)st->lo = COIL__STACK_CANARY;
	rt->stats.stacks_in_use++;
	return 0;
}

void coil__stack_free(struct coil_rt *rt, struct coil__stack *st)
{
	struct coil__arena *a = st->arena;
	struct stack_class *c;

	if (!a)
		return;
	c = a->cls;
	if (st->canary && *(uint64_t *)st->lo != COIL__STACK_CANARY)
		coil__log(rt, "coil: a task overran the bottom of its %zu-byte "
			  "stack (canary overwritten); memory below it may "
			  "be corrupt: give it a larger stack_size",
			  st->size);
	st->arena = NULL;
	rt->stats.stacks_in_use--;
	a->free_idx[a->nfree++] = st->slot;
	if (!a->in_partial)
		partial_add(c, a);
	if (--a->used == 0)
		c->empty++;
}

void coil__stack_trim(struct coil_rt *rt)
{
	struct stack_class *c;
	struct coil__arena *a;

	for (c = rt->stacks->classes; c; c = c->next) {
		if (!c->empty)
			continue;
		for (a = c->all; a; a = a->next) {
			if (a->used || a->trimmed)
				continue;
			if (!a->trim_candidate) {
				a->trim_candidate = true;
				continue;
			}
			if (madvise(a->base, a->map_len, MADV_FREE) == 0)
				a->trimmed = true;
		}
	}
}

/*
 * The scan reads below the task's stack pointer, which Valgrind reports and
 * ASan may find poisoned: both are told this read is deliberate.
 */
__attribute__((no_sanitize_address))
size_t coil__stack_high_water(const struct coil__stack *st)
{
	const volatile uint64_t *w, *end;
	size_t used;

	if (!st->arena)
		return 0;
	VALGRIND_DISABLE_ERROR_REPORTING;
	/* Pages below the first one ever written read as zero. */
	w = (const uint64_t *)st->lo + (st->canary ? 1 : 0);
	end = (const uint64_t *)((const char *)st->lo + st->size);
	while (w < end && *w == 0)
		w++;
	VALGRIND_ENABLE_ERROR_REPORTING;
	used = (size_t)((const char *)end - (const char *)w);
	/* Computed from memory below sp: Valgrind would call it undefined. */
	VALGRIND_MAKE_MEM_DEFINED(&used, sizeof(used));
	return used;
}

/* ------------------------------------------ naming the overflowing task */

static struct sigaction prev_segv;
static pthread_mutex_t segv_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void append(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len < cap)
		buf[(*len)++] = *s++;
}

/*
 * SIGSEGV on the alternate stack. If the fault hit the guard page under the
 * running task's stack, name the task, then restore the default action and
 * return: the faulting instruction runs again and the process dumps core
 * with the original fault (a sent signal is raised again instead). Only
 * async-signal-safe calls here.
 */
static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_task *t = rt ? rt->current : NULL;
	char msg[256];
	size_t len = 0;
	char *addr = si->si_addr;

	(void)uctx;
	if (t && t->stack.arena && addr < (char *)t->stack.lo &&
	    addr >= (char *)t->stack.lo - rt->page_size) {
		append(msg, &len, sizeof(msg), "coil: stack overflow in task ");
		len += fmt_u64(msg + len, t->id);
		if (t->name[0]) {
			append(msg, &len, sizeof(msg), " '");
			append(msg, &len, sizeof(msg), t->name);
			append(msg, &len, sizeof(msg), "'");
		}
		append(msg, &len, sizeof(msg), ": it used all of its ");
		len += fmt_u64(msg + len, t->stack.size);
		append(msg, &len, sizeof(msg),
		       "-byte stack; spawn it with a larger stack_size\n");
		if (write(STDERR_FILENO, msg, len) < 0)
			(void)0;
	}
	sigaction(SIGSEGV, &prev_segv, NULL);
	/*
	 * A signal that kill(2), sigqueue(3) or tgkill(2) sent (si_code <= 0)
	 * is not a fault that happens again on return: send it once more so
	 * that it still does what it would have done without coil.
	 */
	if (si->si_code <= 0)
		raise(sig);
}

/*
 * Tried at every runtime start (not once per process): a handler that was
 * in the way earlier (a test framework's, say) may have gone since.
 */
static bool install_segv_handler(void)
{
	struct sigaction sa, cur;

	if (sigaction(SIGSEGV, NULL, &cur) != 0)
		return false;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == segv_handler)
		return true;
	/* Never displace a handler someone else installed (ASan, the app). */
	if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler != SIG_DFL)
		return false;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	prev_segv = cur;
	return sigaction(SIGSEGV, &sa, NULL) == 0;
}

int coil__overflow_handler_attach(struct coil_rt *rt)
{
	stack_t ss, old;
	size_t size = 64 * 1024;
	bool installed;

	if (rt->opts.flags & COIL_OPT_NO_OVERFLOW_HANDLER)
		return 0;
	pthread_mutex_lock(&segv_lock);
	installed = install_segv_handler();
	pthread_mutex_unlock(&segv_lock);
	if (!installed)
		return 0;
	/* The handler must not run on the overflowed stack itself. */
	if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
		return 0;
	rt->altstack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rt->altstack == MAP_FAILED) {
		rt->altstack = NULL;
		return -ENOMEM;
	}
	ss.ss_sp = rt->altstack;
	ss.ss_size = size;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) != 0) {
		munmap(rt->altstack, size);
		rt->altstack = NULL;
		return -errno;
	}
	rt->altstack_size = size;
	rt->altstack_installed = true;
	return 0;
}

void coil__overflow_handler_detach(struct coil_rt *rt)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (!rt->altstack_installed)
		return;
	sigaltstack(&ss, NULL);
	munmap(rt->altstack, rt->altstack_size);
	rt->altstack = NULL;
	rt->altstack_installed = false;
}
