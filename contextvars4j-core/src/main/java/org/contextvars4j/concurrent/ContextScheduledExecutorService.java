package org.contextvars4j.concurrent;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ScheduledExecutorService} whose tasks run in a copy of the scheduler's context; a
 * periodic task runs every time in a new copy of the context captured when it was scheduled, so
 * one run's sets never reach the next run.
 */
final class ContextScheduledExecutorService extends ContextExecutorService
    implements ScheduledExecutorService {
  private final ScheduledExecutorService delegate;

  ContextScheduledExecutorService(ScheduledExecutorService delegate) {
    super(delegate);
    this.delegate = delegate;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    ContextTask task = Captured.runnable(command, "command");
    Objects.requireNonNull(unit, "unit");
    return delegate.schedule(task, delay, unit);
  }

  @Override
  public <V extends @Nullable Object> ScheduledFuture<V> schedule(
      Callable<V> callable, long delay, TimeUnit unit) {
    Callable<V> task = Captured.callable(callable, "callable");
    Objects.requireNonNull(unit, "unit");
    return delegate.schedule(task, delay, unit);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(unit, "unit");
    return delegate.scheduleAtFixedRate(ContextTask.capture(command), initialDelay, period, unit);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(unit, "unit");
    return delegate.scheduleWithFixedDelay(ContextTask.capture(command), initialDelay, delay, unit);
  }
}
