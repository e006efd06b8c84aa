package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;

/**
 * Runs test bodies on both kinds of thread, as ScopedValueAPI's {@code factories()} does: every
 * thread-sensitive case is a {@code @ParameterizedTest} with
 * {@code @MethodSource("org.contextvars4j.ThreadKinds#factories")}. Every wait is bounded by {@link
 * #TIMEOUT_SECONDS}.
 */
final class ThreadKinds {

  /** The bound on every wait in the tests: generous, so that only a real hang trips it. */
  static final long TIMEOUT_SECONDS = 30;

  private ThreadKinds() {}

  /** {@return a platform-thread factory and a virtual-thread factory, named for the report} */
  static Stream<Named<ThreadFactory>> factories() {
    return Stream.of(
        // Daemon: a thread stuck by a bug must not keep the test JVM alive.
        Named.of("platform", Thread.ofPlatform().daemon().factory()),
        Named.of("virtual", Thread.ofVirtual().factory()));
  }

  /** Starts {@code task} on a new thread of {@code factory}; the future completes with it. */
  static <T> Future<T> start(ThreadFactory factory, Callable<T> task) {
    FutureTask<T> future = new FutureTask<>(task);
    factory.newThread(future).start();
    return future;
  }

  /**
   * Runs {@code task} on a new thread of {@code factory}, waits for it (bounded) and returns its
   * result, or rethrows what it threw (so that an assertion failing there fails the test).
   */
  static <T> T call(ThreadFactory factory, Callable<T> task) throws Exception {
    return await(start(factory, task));
  }

  /** As {@link #call}, for a task without result. */
  static void run(ThreadFactory factory, ThrowingRunnable task) throws Exception {
    call(
        factory,
        () -> {
          task.run();
          return null;
        });
  }

  /** Waits (bounded) for {@code future} and returns its result, or rethrows its failure. */
  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception exception) {
        throw exception;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw e;
    } catch (TimeoutException e) {
      future.cancel(true);
      throw e;
    }
  }

  /** Waits (bounded) for {@code latch}, failing the test if it does not open in time. */
  static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .as("latch opened within %d s", TIMEOUT_SECONDS)
        .isTrue();
  }

  /** A runnable that may throw, for thread bodies that await or assert. */
  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
