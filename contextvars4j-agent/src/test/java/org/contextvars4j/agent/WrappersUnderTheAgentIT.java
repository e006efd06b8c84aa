package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.inNewContext;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The core's executor wrappers under the agent: what they submit is carried once, by the wrapper,
 * and the agent leaves it alone. A pool's {@code submit} wraps the wrapper's task in a {@link
 * FutureTask} (and a {@code Runnable} in the JDK's callable adapter) before it reaches {@code
 * execute}; the agent looks through those adapters, so the pool's queue holds the pool's own
 * {@code FutureTask}, not an agent's wrapper around it. The controls show that the queue does
 * tell: a raw {@code submit}, and a {@code FutureTask} subclass, are carried by the agent.
 */
class WrappersUnderTheAgentIT {
  private ThreadPoolExecutor pool;
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void blockTheOneWorker() throws InterruptedException {
    pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
    CountDownLatch blocking = new CountDownLatch(1);
    pool.execute(
        () -> {
          blocking.countDown();
          try {
            release.await(TIMEOUT_SECONDS, SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    assertThat(blocking.await(TIMEOUT_SECONDS, SECONDS)).isTrue();
  }

  @AfterEach
  void stop() throws InterruptedException {
    release.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
  }

  @Test
  void aCallableSubmittedThroughTheWrapperIsQueuedAsThePoolsOwnFutureTask() throws Exception {
    assertCarriedOnceBy(
        (wrapped, seen) -> wrapped.submit((Callable<String>) () -> NAME.get()), "callable");
  }

  @Test
  void aRunnableSubmittedThroughTheWrapperIsQueuedAsThePoolsOwnFutureTask() throws Exception {
    String[] seen = new String[1];
    inNewContext(
        () -> {
              NAME.set("submitter");
              Future<?> future =
                  ContextExecutors.wrap(pool).submit((Runnable) () -> seen[0] = NAME.get());
              assertThat(pool.getQueue()).singleElement().isSameAs(future);
              assertThat(future.getClass()).isEqualTo(FutureTask.class);
              release.countDown();
              assertThat(future.get(TIMEOUT_SECONDS, SECONDS)).isNull();
            });
    assertThat(seen[0]).isEqualTo("submitter");
  }

  @Test
  void aRunnableWithAResultSubmittedThroughTheWrapperIsQueuedAsThePoolsOwnFutureTask()
      throws Exception {
    assertCarriedOnceBy(
        (wrapped, seen) -> wrapped.submit((Runnable) () -> seen[0] = NAME.get(), "result"),
        "result");
  }

  @Test
  void theWrappersTasksOfInvokeAllAreQueuedAsThePoolsOwnFutureTasks() throws Exception {
    ExecutorService wrapped = ContextExecutors.wrap(pool);
    inNewContext(
        () -> {
              NAME.set("submitter");
              Thread invoker =
                  Thread.ofPlatform()
                      .start(
                          () -> {
                            try {
                              List<Future<String>> futures =
                                  wrapped.invokeAll(
                                      List.<Callable<String>>of(NAME::get, NAME::get));
                              for (Future<String> future : futures) {
                                assertThat(future.get()).isEqualTo("submitter");
                              }
                            } catch (Exception e) {
                              throw new AssertionError(e);
                            }
                          });
              long deadline = System.nanoTime() + SECONDS.toNanos(TIMEOUT_SECONDS);
              // Bounded: the invoker queues both tasks behind the blocked worker.
              while (pool.getQueue().size() < 2 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
              }
              assertThat(pool.getQueue())
                  .hasSize(2)
                  .allSatisfy(task -> assertThat(task.getClass()).isEqualTo(FutureTask.class));
              release.countDown();
              assertThat(invoker.join(java.time.Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();
            });
  }

  @Test
  void controlARawSubmitIsCarriedByTheAgent() throws Exception {
    inNewContext(
        () -> {
              NAME.set("submitter");
              Future<String> future = pool.submit(NAME::get);
              assertThat(pool.getQueue()).singleElement().isNotSameAs(future);
              release.countDown();
              assertThat(future.get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("submitter");
            });
  }

  @Test
  void controlAFutureTaskSubclassIsCarriedByTheAgentEvenAroundABoundFunction() throws Exception {
    inNewContext(
        () -> {
              NAME.set("submitter");
              // Its run or done may read the context, outside the bound function.
              FutureTask<String> task =
                  new FutureTask<>(ContextExecutors.capture(NAME::get)) {
                    @Override
                    protected void done() {}
                  };
              pool.execute(task);
              assertThat(pool.getQueue()).singleElement().isNotSameAs(task);
              release.countDown();
              assertThat(task.get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("submitter");
            });
  }

  @Test
  void aCallableSubmittedToAForkJoinPoolThroughTheWrapperSeesTheSubmittersValues()
      throws Exception {
    ForkJoinPool forkJoin = new ForkJoinPool(2);
    try {
      ExecutorService wrapped = ContextExecutors.wrap(forkJoin);
      inNewContext(
          () -> {
                NAME.set("submitter");
                Future<String> callable = wrapped.submit(NAME::get);
                Future<?> runnable = wrapped.submit((Runnable) () -> NAME.set("task"));
                NAME.set("later");
                assertThat(callable.get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("submitter");
                assertThat(runnable.get(TIMEOUT_SECONDS, SECONDS)).isNull();
                assertThat(NAME.get()).isEqualTo("later");
              });
    } finally {
      forkJoin.shutdown();
      assertThat(forkJoin.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
    }
  }

  private void assertCarriedOnceBy(
      BiFunction<ExecutorService, String[], Future<?>> submit, Object expected) throws Exception {
    String[] seen = new String[1];
    inNewContext(
        () -> {
              NAME.set("submitter");
              Future<?> future = submit.apply(ContextExecutors.wrap(pool), seen);
              NAME.set("later");
              assertThat(pool.getQueue()).singleElement().isSameAs(future);
              assertThat(future.getClass()).isEqualTo(FutureTask.class);
              release.countDown();
              Object result = future.get(TIMEOUT_SECONDS, SECONDS);
              assertThat(result).isEqualTo(expected.equals("callable") ? "submitter" : expected);
            });
    if (!expected.equals("callable")) {
      assertThat(seen[0]).isEqualTo("submitter");
    }
  }
}
