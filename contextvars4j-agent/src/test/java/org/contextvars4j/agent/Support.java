package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
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
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Named;

/**
 * Shared helpers of the agent's tests: the variables, bounded waits, thread kinds, and pools whose
 * threads report their <i>own</i> context (the one a thread is in outside any task), which no task
 * may see or change.
 *
 * <p>Under the agent every task handed to a pool runs in a copy of its submitter's context, so a
 * task cannot read its thread's own context: the reports come from code that runs outside the
 * tasks, on the pool's thread itself: a thread's body around the pool's worker loop ({@link
 * OwnContexts}), and {@code beforeExecute}/{@code afterExecute} ({@link ProbedPool}).
 *
 * <p>Every wait is bounded by {@link #TIMEOUT_SECONDS}; nothing here sleeps to synchronise.
 */
final class Support {

  /** The bound of every wait: generous, so that only a real hang trips it. */
  static final long TIMEOUT_SECONDS = 30;

  static final ContextVar<String> NAME = ContextVar.named("name");
  static final ContextVar<Integer> COUNTER = ContextVar.named("counter");

  /** Where the {@code @MethodSource} of thread-kind parameterised tests points. */
  static final String THREAD_KINDS = "org.contextvars4j.agent.Support#threadKinds";

  /** Where the {@code @MethodSource} of thread-builder parameterised tests points. */
  static final String THREAD_BUILDERS = "org.contextvars4j.agent.Support#threadBuilders";

  private Support() {}

  /** {@return a platform-thread factory and a virtual-thread factory, named for the report} */
  static Stream<Named<ThreadFactory>> threadKinds() {
    return Stream.of(
        // Daemon: a thread stuck by a bug must not keep the test JVM alive.
        Named.of("platform", Thread.ofPlatform().daemon().name("platform-", 0).factory()),
        Named.of("virtual", Thread.ofVirtual().name("virtual-", 0).factory()));
  }

  /** {@return makers of a platform-thread builder and a virtual-thread builder} */
  static Stream<Named<Supplier<Thread.Builder>>> threadBuilders() {
    return Stream.of(
        Named.of("platform", () -> Thread.ofPlatform().daemon()),
        Named.of("virtual", Thread::ofVirtual));
  }

  /** {@return the value of NAME here, or a marker} */
  static String name() {
    return NAME.getOrDefault("<unbound>");
  }

  /** {@return what a task reports about the two variables} */
  static String observed() {
    return name() + "," + (COUNTER.isBound() ? "counter=" + COUNTER.get() : "no counter");
  }

  /** {@return the current thread's current mapping, as a snapshot} */
  static Map<ContextVar<?>, Object> currentMapping() {
    return Context.copyCurrent().asMap();
  }

  /** A body that may throw. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  /** Runs {@code body} on this thread in a new, empty context: nothing it sets outlives it. */
  static void inNewContext(Body body) throws Exception {
    new Context()
        .call(
            () -> {
              body.run();
              return null;
            });
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

  /** As {@link #await}, for lambdas that may not throw checked exceptions. */
  static void awaitUnchecked(CountDownLatch latch) {
    try {
      await(latch);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
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

  /** Joins {@code thread} (bounded), failing if it does not end in time. */
  static void joinBounded(Thread thread) throws InterruptedException {
    assertThat(thread.join(Duration.ofSeconds(TIMEOUT_SECONDS)))
        .as("%s ended within %d s", thread, TIMEOUT_SECONDS)
        .isTrue();
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

  /**
   * A thread factory whose threads report their own context: each thread, before it runs the
   * pool's worker loop, optionally sets {@link #NAME} to an own value in its own context; when the
   * loop ends (the pool let the thread go), it records its own mapping. What a pool thread's own
   * context holds at its end is what the tasks before left behind in it: nothing, under the agent.
   */
  static final class OwnContexts implements ThreadFactory {
    private final ThreadFactory factory;
    private final @Nullable String ownValue;
    private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
    private final Queue<Map<ContextVar<?>, Object>> atStart = new ConcurrentLinkedQueue<>();
    private final Queue<Map<ContextVar<?>, Object>> atEnd = new ConcurrentLinkedQueue<>();

    OwnContexts(ThreadFactory factory, @Nullable String ownValue) {
      this.factory = factory;
      this.ownValue = ownValue;
    }

    OwnContexts(ThreadFactory factory) {
      this(factory, null);
    }

    @Override
    public Thread newThread(Runnable workerLoop) {
      Thread thread =
          factory.newThread(
              () -> {
                atStart.add(currentMapping());
                if (ownValue != null) {
                  NAME.set(ownValue);
                }
                try {
                  workerLoop.run();
                } finally {
                  atEnd.add(currentMapping());
                }
              });
      threads.add(thread);
      return thread;
    }

    /** {@return the mapping each thread started in; read after the threads have ended} */
    List<Map<ContextVar<?>, Object>> atStart() {
      return List.copyOf(atStart);
    }

    /**
     * Waits (bounded) for every thread made to end, then returns each one's own mapping as it
     * ended. Call after the pool has terminated.
     */
    List<Map<ContextVar<?>, Object>> atEnd() throws InterruptedException {
      for (Thread thread : threads) {
        joinBounded(thread);
      }
      assertThat(atEnd).as("every thread made recorded its end").hasSize(threads.size());
      return List.copyOf(atEnd);
    }

    /** {@return the mapping every pool thread ends with: the own value alone, or nothing} */
    Map<ContextVar<?>, Object> expectedAtEnd() {
      return ownValue == null ? Map.of() : Map.of(NAME, ownValue);
    }

    int made() {
      return threads.size();
    }
  }

  /** The same for a {@link ForkJoinPool}: its workers report through their start and end hooks. */
  static final class OwnForkJoinContexts implements ForkJoinPool.ForkJoinWorkerThreadFactory {
    private final @Nullable String ownValue;
    private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
    private final Queue<Map<ContextVar<?>, Object>> atStart = new ConcurrentLinkedQueue<>();
    private final Queue<Map<ContextVar<?>, Object>> atEnd = new ConcurrentLinkedQueue<>();

    OwnForkJoinContexts(@Nullable String ownValue) {
      this.ownValue = ownValue;
    }

    @Override
    public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
      ForkJoinWorkerThread worker = new Worker(pool);
      threads.add(worker);
      return worker;
    }

    /** A worker that keeps its thread-locals between tasks, as the default factory's workers do. */
    private final class Worker extends ForkJoinWorkerThread {
      Worker(ForkJoinPool pool) {
        super(null, pool, true);
        setDaemon(true);
      }

      @Override
      protected void onStart() {
        super.onStart();
        atStart.add(currentMapping());
        if (ownValue != null) {
          NAME.set(ownValue);
        }
      }

      @Override
      protected void onTermination(Throwable exception) {
        try {
          atEnd.add(currentMapping());
        } finally {
          super.onTermination(exception);
        }
      }
    }

    List<Map<ContextVar<?>, Object>> atStart() {
      return List.copyOf(atStart);
    }

    List<Map<ContextVar<?>, Object>> atEnd() throws InterruptedException {
      for (Thread thread : threads) {
        joinBounded(thread);
      }
      assertThat(atEnd).as("every worker made recorded its end").hasSize(threads.size());
      return List.copyOf(atEnd);
    }

    Map<ContextVar<?>, Object> expectedAtEnd() {
      return ownValue == null ? Map.of() : Map.of(NAME, ownValue);
    }
  }

  /** What a pool thread's own context was just before and just after one task. */
  record Around(Thread thread, Map<ContextVar<?>, Object> before, Map<ContextVar<?>, Object> after) {}

  /**
   * A user subclass of {@link ThreadPoolExecutor} that records, on the worker itself, the worker's
   * own context just before and just after every task ({@code beforeExecute}/{@code
   * afterExecute} run outside the copy the task runs in).
   */
  static class ProbedPool extends ThreadPoolExecutor {
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

    @Override
    protected void beforeExecute(Thread t, Runnable r) {
      before.set(currentMapping());
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
      arounds.add(new Around(Thread.currentThread(), before.get(), currentMapping()));
      before.remove();
    }

    /** {@return the record of the next task to finish, waiting (bounded) for it} */
    Around nextAround() throws InterruptedException {
      return take(arounds);
    }

    /**
     * {@return the own mapping of this single-thread pool's thread now}: runs a no-op task and
     * reads what its {@code afterExecute} saw. Only for pools whose records nobody else takes.
     */
    Map<ContextVar<?>, Object> ownMapping() throws Exception {
      arounds.clear();
      join(submit(() -> {}));
      return nextAround().after();
    }
  }

  /** Runs {@code body} on {@code executor} and waits (bounded) until it has run. */
  static void runOn(ExecutorService executor, Body body) throws Exception {
    join(
        executor.submit(
            () -> {
              body.run();
              return null;
            }));
  }
}
