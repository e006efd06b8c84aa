/**
 * JMH benchmarks of contextvars4j side by side with its peers, a JOL footprint main and
 * the Markdown report writer. Not published; built only with the parent POM's {@code benchmarks}
 * profile, for JDK 25.
 *
 * <p>Each peer is adapted behind {@link org.contextvars4j.benchmarks.ContextSystem} and chosen by
 * {@link org.contextvars4j.benchmarks.SystemType}, a JMH {@code @Param}: one system per fork, so
 * every call site is monomorphic. The operations, one class each: {@code GetBenchmark} (1),
 * {@code SetResetBenchmark} (2), {@code CaptureBenchmark} (3), {@code CaptureWrapRunBenchmark}
 * (4), {@code ExecutorHopBenchmark} (5), {@code InBindingsBenchmark} (1 and 2 for {@code
 * ScopedValue}); allocation (6) is {@code -prof gc}; {@code JolFootprint} is memory (7).
 *
 * <p>Run everything, then the report, with {@code bin/bench} (quick mode, about 7 minutes on 2
 * CPUs) or {@code bin/bench full}; results land in {@code contextvars4j-benchmarks/results/}.
 */
package org.contextvars4j.benchmarks;
