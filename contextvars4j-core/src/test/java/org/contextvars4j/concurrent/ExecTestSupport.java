package org.contextvars4j.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.Named;

/**
 * Shared helpers of the tests of this package's executors and threads: thread kinds, bounded
 * waits, and pools that report the context their threads are in around each task.
 *
 * <p>Every wait is bounded by {@link #TIMEOUT_SECONDS}; nothing here sleeps to synchronise.
 */
final class ExecTestSupport {

  /** The bound of every wait: generous, so that only a real hang trips it. */
  static final long TIMEOUT_SECONDS = 30;

  /** Where the {@code @MethodSource} of thread-kind parameterised tests points. */
  static final String THREAD_KINDS = "org.contextvars4j.concurrent.ExecTestSupport#threadKinds";

  private ExecTestSupport() {}

  /** {@return a platform-thread factory and a virtual-thread factory, named for the report} */
  static Stream<Named<ThreadFactory>> threadKinds() {
    return Stream.of(
        // Daemon: a thread stuck by a bug must not keep the test JVM alive.
        Named.of("platform", Thread.ofPlatform().daemon().name("platform-", 0).factory()),
        Named.of("virtual", Thread.ofVirtual().name("virtual-", 0).factory()));
  }

  /** Where the {@code @MethodSource} of thread-builder parameterised tests points. */
  static final String THREAD_BUILDERS =
      "org.contextvars4j.concurrent.ExecTestSupport#threadBuilders";

  /** {@return makers of a platform-thread builder and a virtual-thread builder} */
  static Stream<Named<Supplier<Thread.Builder>>> threadBuilders() {
    return Stream.of(
        Named.of("platform", () -> Thread.ofPlatform().daemon()),
        Named.of("virtual", Thread::ofVirtual));
  }

  /** {@return the current thread's current mapping, as a snapshot} */
  static Map<ContextVar<?>, Object> currentMapping() {
    return Context.copyCurrent().asMap();
  }

  /** Waits (bounded) for {@code future} and returns its result; its failure stays wrapped. */
  static <T> T get(Future<T> future) throws ExecutionException, InterruptedException {
    try {
      return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new AssertionError("no result within " + TIMEOUT_SECONDS + " s", e);
    }
  }

  /** Waits (bounded) for {@code future} and returns its result, or rethrows its failure. */
  static <T> T join(Future<T> future) throws Exception {
    try {
      return get(future);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception exception) {
        throw exception;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /** Waits (bounded) for {@code latch}, failing if it does not open in time. */
  static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .as("latch opened within %d s", TIMEOUT_SECONDS)
        .isTrue();
  }

  /**
   * Counts {@code rendezvous} down and waits (bounded) for the other parties: the callers are then
   * all running at once, each on its own thread. A latch rather than a {@code CyclicBarrier}, whose
   * waits a {@code ForkJoinPool} worker would compensate with extra threads.
   */
  static void meet(CountDownLatch rendezvous) throws InterruptedException {
    rendezvous.countDown();
    await(rendezvous);
  }

  /** Takes (bounded) the next element of {@code queue}. */
  static <E> E take(BlockingQueue<E> queue) throws InterruptedException {
    E element = queue.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(element).as("an element within %d s", TIMEOUT_SECONDS).isNotNull();
    return element;
  }

  /** Shuts {@code executor} down at once and waits (bounded) until it has terminated. */
  static void terminate(ExecutorService executor) throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .as("%s terminated within %d s", executor, TIMEOUT_SECONDS)
        .isTrue();
  }

  /** As {@link #terminate}, for {@code close()} methods: an interrupt fails the test. */
  static void terminateUninterruptibly(ExecutorService executor) {
    try {
      terminate(executor);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while terminating " + executor, e);
    }
  }

  /**
   * Runs {@code probe} unwrapped on the single thread of {@code delegate} and returns its result:
   * what code that is no task of ours sees there, i.e. the pool thread's own context.
   */
  static <T> T onPoolThread(ExecutorService delegate, Callable<T> probe) throws Exception {
    return join(delegate.submit(probe));
  }

  /**
   * Returns the own mapping of each of the {@code threads} threads of {@code delegate}, read by
   * unwrapped tasks that wait for each other, so that each runs on another thread.
   */
  static List<Map<ContextVar<?>, Object>> ownMappingsOfAllThreads(
      ExecutorService delegate, int threads) throws Exception {
    CountDownLatch all = new CountDownLatch(threads);
    List<Future<Map<ContextVar<?>, Object>>> futures = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      futures.add(
          delegate.submit(
              () -> {
                meet(all);
                return currentMapping();
              }));
    }
    List<Map<ContextVar<?>, Object>> mappings = new ArrayList<>();
    for (Future<Map<ContextVar<?>, Object>> future : futures) {
      mappings.add(join(future));
    }
    return mappings;
  }

  /**
   * Polls the garbage collector, a bounded number of times, until {@code ref} is cleared: bounded
   * polling of the collector, not sleeping to synchronise.
   *
   * @return whether the referent was collected
   */
  static boolean collected(Reference<?> ref, ReferenceQueue<?> queue) throws InterruptedException {
    for (int attempt = 0; attempt < 50; attempt++) {
      System.gc();
      if (queue.remove(100) == ref || ref.refersTo(null)) {
        return true;
      }
    }
    return false;
  }

  /** What a probed thread's context was just before and just after one task. */
  record Around(
      Thread thread,
      Map<ContextVar<?>, Object> before,
      Map<ContextVar<?>, Object> after,
      Throwable thrown) {}

  /**
   * A {@link ThreadPoolExecutor} that records, on the worker itself, the worker's context just
   * before and just after every task (in {@code beforeExecute}/{@code afterExecute}, outside any
   * wrapper the task came in): the pool thread's own context, which no task may change.
   */
  static final class ProbedPool extends ThreadPoolExecutor {
    private final BlockingQueue<Around> arounds = new LinkedBlockingQueue<>();
    private final ThreadLocal<Map<ContextVar<?>, Object>> before = new ThreadLocal<>();

    ProbedPool(int threads, ThreadFactory factory) {
      this(threads, factory, new LinkedBlockingQueue<>(), new AbortPolicy());
    }

    ProbedPool(
        int threads,
        ThreadFactory factory,
        BlockingQueue<Runnable> queue,
        RejectedExecutionHandler handler) {
      super(threads, threads, 1, TimeUnit.MINUTES, queue, factory, handler);
    }

    /** A single-thread pool with a queue of {@code capacity}: a third task is rejected. */
    static ProbedPool saturable(
        ThreadFactory factory, int capacity, RejectedExecutionHandler handler) {
      return new ProbedPool(1, factory, new ArrayBlockingQueue<>(capacity), handler);
    }

    @Override
    protected void beforeExecute(Thread t, Runnable r) {
      before.set(currentMapping());
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
      Throwable thrown = t;
      if (thrown == null && r instanceof FutureTask<?> task && task.isDone()) {
        thrown = task.state() == Future.State.FAILED ? task.exceptionNow() : null;
      }
      arounds.add(new Around(Thread.currentThread(), before.get(), currentMapping(), thrown));
      before.remove();
    }

    /** {@return the record of the next task to finish, waiting (bounded) for it} */
    Around nextAround() throws InterruptedException {
      return take(arounds);
    }
  }

  /**
   * A thread factory that records, on each thread it made, the thread's context after the
   * thread's task: for executors that start a thread per task, the context left behind.
   */
  static final class ProbedThreads implements ThreadFactory {
    private final ThreadFactory factory;
    private final BlockingQueue<Map<ContextVar<?>, Object>> afters = new LinkedBlockingQueue<>();

    ProbedThreads(ThreadFactory factory) {
      this.factory = factory;
    }

    @Override
    public Thread newThread(Runnable task) {
      return factory.newThread(
          () -> {
            try {
              task.run();
            } finally {
              afters.add(currentMapping());
            }
          });
    }

    /** {@return the mapping a thread was left in after its task, waiting (bounded) for it} */
    Map<ContextVar<?>, Object> nextAfter() throws InterruptedException {
      return take(afters);
    }
  }
}
