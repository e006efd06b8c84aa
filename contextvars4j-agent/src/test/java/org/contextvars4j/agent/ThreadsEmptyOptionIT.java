package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.join;
import static org.contextvars4j.agent.Support.joinBounded;
import static org.contextvars4j.agent.Support.terminate;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.testapp.UserThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent with {@code -javaagent:...=threads=empty}, in a JVM of its own (the failsafe
 * execution {@code threads-empty}): every thread starts in an empty context, PEP 567's default,
 * while executors and {@code CompletableFuture}s still carry the context. Each test checks both
 * sides at once: the thread started empty, and, from the same context, a task or a stage carried
 * it (which fails without the agent).
 */
final class ThreadsEmptyOptionIT {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size()).isZero();
  }

  @Test
  void thisJvmRunsTheAgentWithThreadsEmpty() {
    assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments())
        .anySatisfy(
            argument ->
                assertThat(argument)
                    .startsWith("-javaagent:")
                    .contains("contextvars4j-agent")
                    .endsWith("=threads=empty"));
    assertThat(Context.class.getClassLoader()).as("the core, from the bootstrap loader").isNull();
  }

  /** A way to start a thread running {@code body}. */
  @FunctionalInterface
  interface Starter {
    Thread start(Runnable body);
  }

  static Stream<Named<Starter>> starters() {
    return Stream.of(
        Named.of(
            "new Thread(task).start()",
            body -> {
              Thread thread = new Thread(body);
              thread.start();
              return thread;
            }),
        Named.of("Thread.startVirtualThread(task)", Thread::startVirtualThread),
        Named.of("Thread.ofPlatform().start(task)", body -> Thread.ofPlatform().start(body)),
        Named.of("Thread.ofVirtual().start(task)", body -> Thread.ofVirtual().start(body)),
        Named.of(
            "Executors.defaultThreadFactory().newThread(task).start()",
            body -> {
              Thread thread = Executors.defaultThreadFactory().newThread(body);
              thread.start();
              return thread;
            }),
        Named.of(
            "a user's Thread subclass overriding run()",
            body -> {
              Thread thread = new UserThreads.OwnRun(body);
              thread.start();
              return thread;
            }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("starters")
  void aStartedThreadStartsEmpty_whileAnExecutorTaskFromTheSameContextCarriesIt(Starter starter)
      throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      inNewContext(
          () -> {
            NAME.set("starter's");
            AtomicReference<Map<ContextVar<?>, Object>> inThread = new AtomicReference<>();
            Thread thread = starter.start(() -> inThread.set(currentMapping()));
            joinBounded(thread);

            assertThat(inThread.get()).as("threads=empty: the thread starts empty").isEmpty();
            assertThat(join(pool.submit(Support::name)))
                .as("an executor still carries the submitter's context")
                .isEqualTo("starter's");
            assertThat(join(CompletableFuture.supplyAsync(Support::name)))
                .as("and so does supplyAsync")
                .isEqualTo("starter's");
          });
    } finally {
      terminate(pool);
    }
  }

  @Test
  void virtualThreadPerTaskExecutor_stillCarriesItsTasks_thoughItsThreadsStartEmpty()
      throws Exception {
    // Executors.newVirtualThreadPerTaskExecutor() is an executor: its tasks carry the submitter's
    // context whatever the option says about threads.
    try (ExecutorService perTask = Executors.newVirtualThreadPerTaskExecutor()) {
      inNewContext(
          () -> {
            NAME.set("submitter's");
            assertThat(join(perTask.submit(Support::name))).isEqualTo("submitter's");
            assertThat(join(CompletableFuture.supplyAsync(Support::name, perTask)))
                .as("a CompletableFuture's supplier too")
                .isEqualTo("submitter's");
            CompletableFuture<String> seen = new CompletableFuture<>();
            Thread.startVirtualThread(() -> seen.complete(Support.name()));
            assertThat(join(seen))
                .as("while a thread started by hand starts empty")
                .isEqualTo("<unbound>");
          });
    }
  }

  @Test
  void poolsAndSchedulersStillCarry_theirWorkersStillStartEmpty() throws Exception {
    Support.OwnContexts fixedThreads = new Support.OwnContexts(Thread.ofPlatform().factory());
    Support.OwnContexts scheduledThreads = new Support.OwnContexts(Thread.ofVirtual().factory());
    Support.OwnForkJoinContexts forkJoinThreads = new Support.OwnForkJoinContexts(null);
    ExecutorService fixed = Executors.newFixedThreadPool(1, fixedThreads);
    ScheduledThreadPoolExecutor scheduled = new ScheduledThreadPoolExecutor(1, scheduledThreads);
    ForkJoinPool forkJoin = new ForkJoinPool(1, forkJoinThreads, null, false);
    try {
      inNewContext(
          () -> {
            NAME.set("submitter's");
            assertThat(join(fixed.submit(Support::name))).isEqualTo("submitter's");
            assertThat(join(scheduled.schedule(Support::name, 1, MILLISECONDS)))
                .isEqualTo("submitter's");
            assertThat(join(forkJoin.submit(Support::name))).isEqualTo("submitter's");
            CompletableFuture<String> later = new CompletableFuture<>();
            CompletableFuture<String> stage = later.thenApply(v -> v + " " + Support.name());
            NAME.set("after attaching");
            Thread completer = new Thread(() -> later.complete("stage saw"));
            completer.start();
            joinBounded(completer);
            assertThat(join(stage)).isEqualTo("stage saw submitter's");
          });
    } finally {
      terminate(fixed);
      terminate(scheduled);
      terminate(forkJoin);
    }
    assertThat(fixedThreads.atStart()).isNotEmpty().allSatisfy(m -> assertThat(m).isEmpty());
    assertThat(fixedThreads.atEnd()).allSatisfy(m -> assertThat(m).isEmpty());
    assertThat(scheduledThreads.atStart()).isNotEmpty().allSatisfy(m -> assertThat(m).isEmpty());
    assertThat(scheduledThreads.atEnd()).allSatisfy(m -> assertThat(m).isEmpty());
    assertThat(forkJoinThreads.atStart()).isNotEmpty().allSatisfy(m -> assertThat(m).isEmpty());
    assertThat(forkJoinThreads.atEnd()).allSatisfy(m -> assertThat(m).isEmpty());
  }
}
