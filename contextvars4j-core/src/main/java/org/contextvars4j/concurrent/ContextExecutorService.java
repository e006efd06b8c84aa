package org.contextvars4j.concurrent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * An {@link ExecutorService} whose tasks (every {@code execute}, {@code submit}, {@code invokeAll}
 * and {@code invokeAny}) each run in their own copy of the submitter's context; the life-cycle
 * methods go to the delegate unchanged.
 */
class ContextExecutorService implements ExecutorService {
  private final ExecutorService delegate;

  ContextExecutorService(ExecutorService delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable command) {
    delegate.execute(Captured.runnable(command, "command"));
  }

  @Override
  public Future<?> submit(Runnable task) {
    return delegate.submit(Captured.runnable(task, "task"));
  }

  @Override
  public <T extends @Nullable Object> Future<T> submit(Runnable task, T result) {
    return delegate.submit(Captured.runnable(task, "task"), result);
  }

  @Override
  public <T extends @Nullable Object> Future<T> submit(Callable<T> task) {
    return delegate.submit(Captured.callable(task, "task"));
  }

  @Override
  public <T extends @Nullable Object> List<Future<T>> invokeAll(
      Collection<? extends Callable<T>> tasks) throws InterruptedException {
    return delegate.invokeAll(captureAll(tasks));
  }

  @Override
  public <T extends @Nullable Object> List<Future<T>> invokeAll(
      Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException {
    List<Callable<T>> captured = captureAll(tasks);
    Objects.requireNonNull(unit, "unit");
    return delegate.invokeAll(captured, timeout, unit);
  }

  @Override
  public <T extends @Nullable Object> T invokeAny(Collection<? extends Callable<T>> tasks)
      throws InterruptedException, ExecutionException {
    return delegate.invokeAny(captureAll(tasks));
  }

  @Override
  public <T extends @Nullable Object> T invokeAny(
      Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<Callable<T>> captured = captureAll(tasks);
    Objects.requireNonNull(unit, "unit");
    return delegate.invokeAny(captured, timeout, unit);
  }

  /** One copy per task: tasks of one call may run at the same time. */
  private static <T extends @Nullable Object> List<Callable<T>> captureAll(
      Collection<? extends Callable<T>> tasks) {
    Objects.requireNonNull(tasks, "tasks");
    List<Callable<T>> captured = new ArrayList<>(tasks.size());
    for (Callable<T> task : tasks) {
      captured.add(Captured.callable(task, "tasks[" + captured.size() + "]"));
    }
    return captured;
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }

  /** Hands back the tasks as they were submitted, not the wrappers around them. */
  @Override
  public List<Runnable> shutdownNow() {
    List<Runnable> pending = delegate.shutdownNow();
    List<Runnable> unwrapped = new ArrayList<>(pending.size());
    for (Runnable runnable : pending) {
      unwrapped.add(runnable instanceof ContextTask task ? task.task() : runnable);
    }
    return unwrapped;
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    Objects.requireNonNull(unit, "unit");
    return delegate.awaitTermination(timeout, unit);
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + delegate + "]";
  }
}
