package org.contextvars4j.concurrent;

import java.util.concurrent.Executor;

/** An {@link Executor} whose tasks run in a copy of the submitter's context. */
final class ContextExecutor implements Executor {
  private final Executor delegate;

  ContextExecutor(Executor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable command) {
    delegate.execute(Captured.runnable(command, "command"));
  }

  @Override
  public String toString() {
    return "ContextExecutor[" + delegate + "]";
  }
}
