package org.contextvars4j;

import org.contextvars4j.hamt.Hamt;

/**
 * The per-thread part of the model: which {@link Context} the thread is in now. One instance per
 * thread (platform or virtual), created on the thread's first use of this library.
 *
 * <p>Only the owning thread reads or writes the fields, so they are plain fields.
 */
final class ThreadState {

  // One ThreadLocal lookup per operation is the whole per-thread cost: everything else hangs off
  // this object. A virtual thread gets its own instance, as it gets its own ThreadLocal values.
  private static final ThreadLocal<ThreadState> STATE = ThreadLocal.withInitial(ThreadState::new);

  /** The current context; never null. Starts as this thread's own empty base context. */
  Context context;

  /**
   * Always {@code context.vars}, mirrored here so that {@link ContextVar#get()} needs one load
   * less on its hot path. Every write to one is paired with a write to the other.
   */
  Hamt<ContextVar<?>, Object> vars;

  private ThreadState() {
    this.context = Context.base(Thread.currentThread());
    this.vars = context.vars;
  }

  static ThreadState current() {
    return STATE.get();
  }

  /** Makes {@code mapping} the current mapping, in this state and in the current context. */
  void replaceVars(Hamt<ContextVar<?>, Object> mapping) {
    vars = mapping;
    context.vars = mapping;
  }
}
