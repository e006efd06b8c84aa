package org.contextvars4j;

import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;

/** Gives {@code org.contextvars4j.concurrent} the package-private fast paths, through {@link ContextAccess}. */
final class InternalAccess extends ContextAccess {
  private InternalAccess() {}

  static void install() {
    ContextAccess.install(new InternalAccess());
  }

  @Override
  public Object currentMapping() {
    return ThreadState.current().mapping();
  }

  @Override
  public void runInNew(Object mapping, Runnable task) {
    Context.runInNew((Vars) mapping, task);
  }

  @Override
  public <T extends @Nullable Object> void bind(ContextVar<T> var, T value) {
    ThreadState.current().bind(var, value);
  }

  @Override
  public Object enterStep(Context task) {
    return TaskSteps.enter(task);
  }

  @Override
  public void leaveStep(Object step) {
    TaskSteps.leave((TaskSteps.Step) step);
  }

  @Override
  public <R extends @Nullable Object, X extends Throwable> R callInNew(
      Object mapping, Context.CallableOp<R, X> op) throws X {
    return Context.callInNew((Vars) mapping, op);
  }
}
