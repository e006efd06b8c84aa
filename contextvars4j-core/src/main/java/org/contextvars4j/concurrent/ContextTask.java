package org.contextvars4j.concurrent;

import org.contextvars4j.internal.ContextAccess;

/**
 * A task bound to the mapping current when it was handed over: each run, however many and on
 * whatever thread, runs in a new context holding that mapping, so no run sees another's sets. A
 * class rather than a lambda, so that {@code shutdownNow()} can hand back the caller's own tasks.
 */
final class ContextTask implements Runnable {
  // Constant for the JIT: every call through it is to the one implementation.
  private static final ContextAccess ACCESS = ContextAccess.get();

  private final Object mapping;
  private final Runnable task;

  private ContextTask(Object mapping, Runnable task) {
    this.mapping = mapping;
    this.task = task;
  }

  /** Binds {@code task} to the current mapping: capturing takes no copy and makes no context. */
  static ContextTask capture(Runnable task) {
    return new ContextTask(ACCESS.currentMapping(), task);
  }

  @Override
  public void run() {
    ACCESS.runInNew(mapping, task);
  }

  /** The task as the caller handed it over. */
  Runnable task() {
    return task;
  }

  @Override
  public String toString() {
    return "ContextTask[" + task + "]";
  }
}
