/* tests/cuda_emu/emu_fibers.cc: the threads of an emulated CUDA block as fibers on the calling
 * thread (declared in cuda_runtime.h beside this file).
 *
 * A fiber switch saves the callee-saved registers, the SSE and x87 control words and the stack
 * pointer, and loads another fiber's: no system call, unlike swapcontext, which saves the signal
 * mask each time (a kernel step of the micro level meets ten barriers in each of its 128
 * threads, so the switch is the emulation's cost). x86-64 System V only; elsewhere swapcontext. */
#include "cuda_runtime.h"

#include <ucontext.h>

#define MG_EMU_STACK (256 * 1024) /* bytes of stack per fiber */

#if defined(__x86_64__)
/* mg_emu_switch(&save_sp, load_sp): push the registers, save rsp in *save_sp, load load_sp,
 * pop that fiber's registers and return into it. A new fiber's stack is laid out as if it had
 * switched away at the start of mg_emu_entry (mg_emu_fiber_init). */
extern "C" void mg_emu_switch(void **save_sp, void *load_sp);
asm(".text\n"
    ".globl mg_emu_switch\n"
    ".type mg_emu_switch, @function\n"
    "mg_emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size mg_emu_switch, .-mg_emu_switch\n");
#endif

namespace {

struct fiber {
#if defined(__x86_64__)
    void *sp;
#else
    ucontext_t ctx;
#endif
    int done;
};

struct sched {
#if defined(__x86_64__)
    void *main_sp;
#else
    ucontext_t main;
#endif
    fiber *f;
    char *stacks;
    int cap, current;
    const void *body;
    void (*call)(const void *);
    unsigned long long passes; /* numbers each pass's order */
};
thread_local sched S = {};

void to_main(void)
{
#if defined(__x86_64__)
    mg_emu_switch(&S.f[S.current].sp, S.main_sp);
#else
    swapcontext(&S.f[S.current].ctx, &S.main);
#endif
}

void resume(int t)
{
    S.current = t;
    threadIdx = dim3((unsigned)t, 0, 0);
#if defined(__x86_64__)
    mg_emu_switch(&S.main_sp, S.f[t].sp);
#else
    swapcontext(&S.main, &S.f[t].ctx);
#endif
}

/* A fiber's life: the thread's body, then back to the scheduler for good. */
void entry(void)
{
    S.call(S.body);
    S.f[S.current].done = 1;
    to_main();
    abort(); /* a finished fiber is never resumed */
}

void fiber_init(int t)
{
    char *top = S.stacks + (size_t)(t + 1) * MG_EMU_STACK; /* 16-byte aligned */
    S.f[t].done = 0;
#if defined(__x86_64__)
    /* from the top: a null return address for entry (so that rsp % 16 == 8 on entering it, as
     * after a call), entry's address for mg_emu_switch's ret, six registers (0), the control
     * words (the caller's) */
    uint64_t *p = (uint64_t *)top;
    *--p = 0;
    *--p = (uint64_t)(uintptr_t)&entry;
    for (int k = 0; k < 6; ++k)
        *--p = 0;
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    *--p = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    S.f[t].sp = p;
#else
    getcontext(&S.f[t].ctx);
    S.f[t].ctx.uc_stack.ss_sp = top - MG_EMU_STACK;
    S.f[t].ctx.uc_stack.ss_size = MG_EMU_STACK;
    S.f[t].ctx.uc_link = &S.main;
    makecontext(&S.f[t].ctx, entry, 0);
#endif
}

unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned r = a % b;
        a = b;
        b = r;
    }
    return a;
}

} // namespace

mg_emu_order mg_emu_order_make(unsigned n, unsigned long long c)
{
    static const int linear = [] {
        const char *v = getenv("MG_EMU_ORDER");
        return v && strcmp(v, "linear") == 0;
    }();
    mg_emu_order o = {n > 0 ? n : 1, 1, 0, 0};
    if (linear || n < 2)
        return o;
    /* k -> (m k + off) mod n is a permutation when gcd(m, n) = 1 */
    o.m = (unsigned)(2 * (c % 11) + 1) % n;
    while (gcd(o.m, n) != 1)
        o.m = (o.m + 1) % n;
    o.off = (unsigned)((c * 0x9e3779b97f4a7c15ull) >> 40) % n;
    o.rev = (unsigned)(c % 2);
    return o;
}

void mg_emu_yield(void)
{
    if (S.current < 0 || !S.f) {
        fprintf(stderr, "tests/cuda_emu: a barrier outside a kernel launch\n");
        abort();
    }
    to_main();
}

void mg_emu_run_block(unsigned n, const void *body, void (*call)(const void *))
{
    if ((int)n > S.cap) {
        free(S.f);
        free(S.stacks);
        S.f = (fiber *)malloc(n * sizeof(fiber));
        S.stacks = (char *)aligned_alloc(64, (size_t)n * MG_EMU_STACK);
        if (!S.f || !S.stacks) {
            fprintf(stderr, "tests/cuda_emu: out of memory for %u fibers\n", n);
            abort();
        }
        S.cap = (int)n;
    }
    S.body = body;
    S.call = call;
    for (unsigned t = 0; t < n; ++t)
        fiber_init((int)t);
    /* passes until every fiber has ended, each in an order of its own: every fiber runs to its
     * next barrier */
    for (unsigned active = n; active > 0;) {
        const mg_emu_order order = mg_emu_order_make(n, S.passes++);
        for (unsigned k = 0; k < n; ++k) {
            const unsigned t = mg_emu_order_at(&order, k);
            if (!S.f[t].done) {
                resume((int)t);
                active -= S.f[t].done;
            }
        }
    }
    S.current = -1;
}
