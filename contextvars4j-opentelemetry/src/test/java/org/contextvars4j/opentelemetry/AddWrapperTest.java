package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.Test;

/**
 * A wrapper added with {@link ContextStorage#addWrapper} (as Spring Boot and OpenTelemetry's agent
 * add theirs) wraps this module's storage. Wrappers must be added before OpenTelemetry first uses
 * its storage, so this runs in a JVM of its own (the surefire execution "wrapper").
 */
class AddWrapperTest {
  private static final ContextKey<String> KEY = ContextKey.named("key");
  private static final List<String> attached = new CopyOnWriteArrayList<>();

  static {
    ContextStorage.addWrapper(
        delegate ->
            new ContextStorage() {
              @Override
              public Scope attach(Context toAttach) {
                attached.add(String.valueOf(toAttach.get(KEY)));
                return delegate.attach(toAttach);
              }

              @Override
              public Context current() {
                return delegate.current();
              }
            });
  }

  @Test
  void aWrapperWrapsThisStorage_andTheWrappersStillCarryTheContext() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (Scope ignored = Context.root().with(KEY, "a").makeCurrent()) {
      assertThat(attached).containsExactly("a");
      assertThat(ContextStorage.get()).isNotSameAs(ContextVarsStorageProvider.storage());
      assertThat(pool.submit(() -> Context.current().get(KEY)).get(10, TimeUnit.SECONDS))
          .isEqualTo("a");
    } finally {
      pool.shutdownNow();
    }
    assertThat(Context.current()).isSameAs(Context.root());
  }
}
