package org.contextvars4j.concurrent;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.contextvars4j.Context;
import org.jspecify.annotations.Nullable;

/**
 * Executors whose tasks run in a copy of the context that was current when each task was handed
 * over, as an asyncio task runs in a copy of the context current at its creation.
 *
 * {@snippet lang = java :
 * ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(8));
 *
 * try (var token = REQUEST_ID.set("r-42")) {
 *   pool.submit(() -> log.info("{}", REQUEST_ID.get()));   // "r-42", on a pool thread
 * }
 * }
 *
 * <h2>What a task sees, and what it leaves</h2>
 *
 * A task sees the values of the submitter's context as they were at submission; later sets by the
 * submitter do not reach it. What a task sets stays in its own copy: it never reaches the
 * submitter, a sibling task, or the next task on the same pooled thread, whose own context is
 * exactly what it was before the task ran (also when the task throws). Capturing is {@link
 * Context#copyCurrent()}: one small allocation, whatever the number of variables.
 *
 * <h2>What is not covered</h2>
 *
 * Only tasks handed to the returned executor are captured. A pool's threads keep their own
 * contexts for code that runs on them outside a task. A task that the delegate creates itself
 * (e.g. a {@link java.util.concurrent.ForkJoinTask} that forks subtasks inside {@link
 * java.util.concurrent.ForkJoinPool}) is not captured: a forked subtask runs in the context of the
 * worker that runs it — the parent's when the parent's worker runs it while joining, another
 * worker's own when stolen. Bind such subtasks (and parallel-stream lambdas, which run on the
 * common pool's workers) to a copy each: {@snippet lang = java :
 * Context snapshot = Context.copyCurrent();
 * list.parallelStream().map(x -> snapshot.copy().call(() -> handle(x))).toList();
 * }
 *
 * <h2>Threads and nulls</h2>
 *
 * This class is thread-safe (it has no state), and so are the executors it returns when their
 * delegates are. Unless otherwise specified, passing a {@code null} argument to a method of this
 * class, or a {@code null} task to a returned executor, causes a {@link NullPointerException} to be
 * thrown.
 *
 * @since 0.1
 */
public final class ContextExecutors {
  private ContextExecutors() {}

  /**
   * Returns an executor that runs each task in a copy of the context current when the task was
   * handed to {@code execute}. Wrapping an executor returned by this class returns it unchanged.
   *
   * @param executor the executor that runs the tasks; not {@code null}
   * @return the wrapping executor
   * @throws NullPointerException if {@code executor} is {@code null}
   */
  public static Executor wrap(Executor executor) {
    Objects.requireNonNull(executor, "executor");
    if (executor instanceof ContextExecutor || executor instanceof ContextExecutorService) {
      return executor;
    }
    return new ContextExecutor(executor);
  }

  /**
   * Returns an executor service that runs each task (of {@code execute}, {@code submit}, {@code
   * invokeAll} and {@code invokeAny}) in its own copy of the context current when the task was
   * handed over. {@code shutdown}, {@code shutdownNow} (which returns the tasks as submitted),
   * {@code awaitTermination}, {@code close} and the state queries go to {@code executor}.
   * Wrapping an executor service returned by this class returns it unchanged.
   *
   * @param executor the executor service that runs the tasks; not {@code null}
   * @return the wrapping executor service
   * @throws NullPointerException if {@code executor} is {@code null}
   */
  public static ExecutorService wrap(ExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    if (executor instanceof ContextExecutorService) {
      return executor;
    }
    return new ContextExecutorService(executor);
  }

  /**
   * Returns a scheduled executor service that runs each task in a copy of the context current
   * when it was scheduled. A periodic task ({@code scheduleAtFixedRate}, {@code
   * scheduleWithFixedDelay}) runs every time in a new copy of the context captured when it was
   * scheduled: one run's sets never reach the next run. Wrapping a scheduled executor service
   * returned by this class returns it unchanged.
   *
   * @param executor the scheduled executor service that runs the tasks; not {@code null}
   * @return the wrapping scheduled executor service
   * @throws NullPointerException if {@code executor} is {@code null}
   */
  public static ScheduledExecutorService wrap(ScheduledExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    if (executor instanceof ContextScheduledExecutorService) {
      return executor;
    }
    return new ContextScheduledExecutorService(executor);
  }

  /**
   * Returns a new executor service that starts a new virtual thread for each task (as {@link
   * Executors#newVirtualThreadPerTaskExecutor()}), each task running in a copy of the context
   * current when it was handed over.
   *
   * @return a new executor service; close it when done
   */
  public static ExecutorService newVirtualThreadPerTaskExecutor() {
    return new ContextExecutorService(Executors.newVirtualThreadPerTaskExecutor());
  }

  /**
   * Returns {@code task} bound to a copy of the context current now: however often, wherever and
   * whenever it runs, it runs in a new copy of the captured context. For handing a single task to
   * code that runs it elsewhere (a framework callback, a {@code ForkJoinTask}).
   *
   * @param task the task; not {@code null}
   * @return the bound task
   * @throws NullPointerException if {@code task} is {@code null}
   */
  public static Runnable capture(Runnable task) {
    Objects.requireNonNull(task, "task");
    return ContextTask.capture(task);
  }

  /**
   * Returns {@code task} bound to a copy of the context current now; see {@link
   * #capture(Runnable)}.
   *
   * @param task the task; not {@code null}
   * @param <V> the type of the result
   * @return the bound task, which returns {@code task}'s result and throws its exception
   * @throws NullPointerException if {@code task} is {@code null}
   */
  public static <V extends @Nullable Object> Callable<V> capture(Callable<V> task) {
    return Captured.callable(task, "task");
  }
}
