package org.contextvars4j.benchmarks;

/**
 * The systems compared, as Caffeine's {@code CacheType}: each benchmark takes one as a JMH
 * {@code @Param}, listing only the systems that can do its operation. {@link #create()} loads only
 * the chosen system's adapter class, so a fork sees one implementation of {@link ContextSystem}.
 */
public enum SystemType {
  /** contextvars4j: {@code ContextVar}, {@code Context.copyCurrent()}, {@code ContextExecutors}. */
  CONTEXTVARS4J("contextvars4j") {
    @Override
    ContextSystem create() {
      return new ContextVars4jSystem(false);
    }
  },
  /**
   * contextvars4j, wrapping with {@code Context.copyCurrent().wrap(task)} (the task runs in that
   * very context object, entered by compare-and-set) instead of {@code
   * ContextExecutors.capture(task)}. Differs from {@link #CONTEXTVARS4J} only in capture + wrap +
   * run.
   */
  CONTEXTVARS4J_COPY_WRAP("contextvars4j (copyCurrent().wrap)") {
    @Override
    ContextSystem create() {
      return new ContextVars4jSystem(true);
    }
  },
  /** {@code java.lang.ThreadLocal}, the floor; propagated by hand (copy loop) where it must be. */
  THREAD_LOCAL("ThreadLocal") {
    @Override
    ContextSystem create() {
      return new ThreadLocalSystem(false);
    }
  },
  /** {@code java.lang.InheritableThreadLocal}; propagated by hand (copy loop) where it must be. */
  INHERITABLE_THREAD_LOCAL("InheritableThreadLocal") {
    @Override
    ContextSystem create() {
      return new ThreadLocalSystem(true);
    }
  },
  /** Alibaba {@code TransmittableThreadLocal}, {@code TtlRunnable}, {@code TtlExecutors}. */
  TTL("TransmittableThreadLocal") {
    @Override
    ContextSystem create() {
      return new TtlSystem();
    }
  },
  /** OpenTelemetry {@code io.opentelemetry.context.Context} and {@code ContextKey}. */
  OPENTELEMETRY("OpenTelemetry Context") {
    @Override
    ContextSystem create() {
      return new OpenTelemetrySystem();
    }
  },
  /** gRPC {@code io.grpc.Context} and {@code Context.Key}. */
  GRPC("gRPC Context") {
    @Override
    ContextSystem create() {
      return new GrpcSystem();
    }
  },
  /** Micrometer context-propagation: {@code ContextSnapshotFactory} over {@code ThreadLocal}s. */
  MICROMETER("Micrometer context-propagation") {
    @Override
    ContextSystem create() {
      return new MicrometerSystem();
    }
  },
  /** JDK 25 {@code java.lang.ScopedValue}. */
  SCOPED_VALUE("ScopedValue") {
    @Override
    ContextSystem create() {
      return new ScopedValueSystem();
    }
  };

  private final String label;

  SystemType(String label) {
    this.label = label;
  }

  /** {@return the name of the system as the report prints it} */
  public String label() {
    return label;
  }

  /** {@return a new adapter of this system, with its variables created and none bound} */
  abstract ContextSystem create();
}
