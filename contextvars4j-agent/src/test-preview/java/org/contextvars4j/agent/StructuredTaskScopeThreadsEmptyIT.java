package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.join;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.StructuredTaskScope.Subtask;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StructuredTaskScope} (a preview API in JDK 25) under {@code
 * -javaagent:...=threads=empty}, beside {@link ThreadsEmptyOptionIT} in the failsafe execution
 * {@code threads-empty}: a fork is a thread that the scope starts, so, as every thread under that
 * option, it starts in an empty context, with the scope's default thread factory and with the
 * application's. Each test checks both sides at once, as {@code ThreadsEmptyOptionIT} does: the
 * forks started empty, and, from the same context, an executor's task carried it (which fails
 * without the agent); and the subtasks ran on threads of the configured factory.
 */
final class StructuredTaskScopeThreadsEmptyIT {

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
  }

  /** What a subtask saw: its thread and its mapping. */
  record Report(Thread thread, Map<ContextVar<?>, Object> mapping) {}

  @ParameterizedTest
  @MethodSource(StructuredTaskScopeIT.FORKS)
  void forksStartEmpty_whileAnExecutorTaskFromTheSameContextCarriesIt(
      StructuredTaskScopeIT.Forks forks) throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      inNewContext(
          () -> {
            NAME.set("owner's");
            List<Report> reports;
            try (StructuredTaskScope<Report, Stream<Subtask<Report>>> scope =
                forks.open(Joiner.allSuccessfulOrThrow())) {
              for (int i = 0; i < 2; i++) {
                scope.fork(() -> new Report(Thread.currentThread(), currentMapping()));
              }
              reports = scope.join().map(Subtask::get).toList();
            }

            assertThat(reports).extracting(Report::thread).allMatch(forks.madeIt());
            assertThat(reports)
                .extracting(Report::mapping)
                .as("threads=empty: every fork starts empty")
                .containsExactly(Map.of(), Map.of());
            assertThat(join(pool.submit(Support::name)))
                .as("an executor still carries the owner's context")
                .isEqualTo("owner's");
          });
    } finally {
      Support.terminate(pool);
    }
  }
}
