package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.Test;

/**
 * The storage with {@code opentelemetry-context} alone on the class path, as a library that
 * depends on the context but not on the API would have it: nothing of the API (which {@link
 * BaggageVars} needs) is loaded. Runs in the surefire execution {@code context-only}, whose class
 * path leaves the API, the SDK and gRPC out (the context needs {@code opentelemetry-common}).
 */
class ContextOnlyTest {
  private static final ContextKey<String> KEY = ContextKey.named("key");

  @Test
  void theApiIsNotOnTheClassPath() {
    assertThatThrownBy(() -> Class.forName("io.opentelemetry.api.baggage.Baggage"))
        .isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void attachCurrentCloseAndTheWrappersWorkWithTheContextAlone() throws Exception {
    assertThat(ContextStorage.get()).isSameAs(ContextVarsStorageProvider.storage());
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try {
      try (Scope ignored = Context.root().with(KEY, "request").makeCurrent()) {
        assertThat(Context.current().get(KEY)).isEqualTo("request");
        assertThat(pool.submit(() -> Context.current().get(KEY)).get(10, TimeUnit.SECONDS))
            .isEqualTo("request");
      }
      assertThat(Context.current()).isSameAs(Context.root());
      assertThat(pool.submit(() -> Context.current().get(KEY)).get(10, TimeUnit.SECONDS)).isNull();
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
