package org.contextvars4j.benchmarks;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One system's variables shared by every benchmark thread, as a server's {@code static final}
 * variables are: the state of the multi-threaded shape benchmarks ({@link ConcurrentGetBenchmark},
 * {@link RequestBenchmark}). Each thread binds them in its own context through its own {@link
 * ThreadBinding}; a system whose reads wrote shared memory would show it here and not in a
 * benchmark where each thread has variables of its own.
 */
@State(Scope.Benchmark)
public class SharedSystem {

  @Param({"CONTEXTVARS4J", "THREAD_LOCAL", "TTL", "OPENTELEMETRY", "GRPC"})
  SystemType system;

  ContextSystem shared;

  @Setup
  public void create() {
    shared = system.create();
  }
}
