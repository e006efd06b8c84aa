package org.contextvars4j.concurrent;

import org.contextvars4j.Context;

/**
 * A task bound to the context captured when it was handed over. A class rather than a lambda, so
 * that {@code shutdownNow()} can hand back the caller's own tasks.
 */
final class ContextTask implements Runnable {
  private final Context context;
  private final Runnable task;
  /** For tasks run more than once: each run starts from the captured values, not the last run's. */
  private final boolean freshCopyEachRun;

  ContextTask(Context context, Runnable task) {
    this(context, task, false);
  }

  private ContextTask(Context context, Runnable task, boolean freshCopyEachRun) {
    this.context = context;
    this.task = task;
    this.freshCopyEachRun = freshCopyEachRun;
  }

  /** A task that may run many times, even at once: each run gets a new copy of the context now. */
  static ContextTask reusable(Runnable task) {
    return new ContextTask(Context.copyCurrent(), task, true);
  }

  @Override
  public void run() {
    (freshCopyEachRun ? context.copy() : context).run(task);
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
