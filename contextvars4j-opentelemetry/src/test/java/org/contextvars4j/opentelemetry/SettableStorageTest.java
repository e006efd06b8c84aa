package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.context.SettableContextStorageProvider;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.Test;

/**
 * With OpenTelemetry's SDK testing on the class path, OpenTelemetry always takes its own {@code
 * SettableContextStorageProvider}; tests then install this module's storage in it. Runs in a JVM
 * of its own (the surefire execution "settable"), with opentelemetry-sdk-testing on its class path.
 */
class SettableStorageTest {
  private static final ContextKey<String> KEY = ContextKey.named("key");

  @Test
  void theStorageWorksBehindOpenTelemetrysSettableProvider() throws Exception {
    SettableContextStorageProvider.setContextStorage(ContextVarsStorageProvider.storage());
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (Scope ignored = Context.root().with(KEY, "a").makeCurrent()) {
      assertThat(pool.submit(() -> Context.current().get(KEY)).get(10, TimeUnit.SECONDS))
          .as("carried by contextvars4j, so kept in its storage")
          .isEqualTo("a");
    } finally {
      pool.shutdownNow();
    }
    assertThat(Context.current()).isSameAs(Context.root());
  }
}
