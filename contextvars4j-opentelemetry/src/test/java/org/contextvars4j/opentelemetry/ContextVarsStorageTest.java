package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The storage with the real OpenTelemetry API and SDK, found with nothing configured. */
class ContextVarsStorageTest {
  private static final ContextKey<String> KEY = ContextKey.named("key");
  private static final SdkTracerProvider TRACING = SdkTracerProvider.builder().build();
  private static final Tracer TRACER = TRACING.get("test");

  @AfterAll
  static void shutDown() {
    TRACING.close();
  }

  @AfterEach
  void nothingLeftAttached() {
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void openTelemetryFindsThisStorageWithNothingConfigured() {
    assertThat(ContextStorage.get()).isSameAs(ContextVarsStorageProvider.storage());
    assertThat(new ContextVarsStorageProvider().get()).isSameAs(ContextVarsStorageProvider.storage());
  }

  @Test
  void nothingAttachedIsRoot_onANewThreadAndInANewContext() throws Exception {
    try (Scope ignored = Context.root().with(KEY, "outer").makeCurrent()) {
      CompletableFuture<Context> seen = new CompletableFuture<>();
      Thread.ofPlatform().start(() -> seen.complete(Context.current()));
      assertThat(seen.get(10, TimeUnit.SECONDS)).isSameAs(Context.root());
      new org.contextvars4j.Context().run(() -> assertThat(Context.current()).isSameAs(Context.root()));
      assertThat(Context.current().get(KEY)).isEqualTo("outer");
    }
  }

  @Test
  void makeCurrentAndCloseNestAndRestore() {
    Context a = Context.root().with(KEY, "a");
    Context b = a.with(KEY, "b");
    try (Scope outer = a.makeCurrent()) {
      assertThat(Context.current()).isSameAs(a);
      try (Scope inner = b.makeCurrent()) {
        assertThat(Context.current()).isSameAs(b);
      }
      assertThat(Context.current()).isSameAs(a);
    }
  }

  @Test
  void attachingTheCurrentContextOrNullDoesNothing() {
    Context a = Context.root().with(KEY, "a");
    try (Scope outer = a.makeCurrent()) {
      Scope same = a.makeCurrent();
      same.close();
      assertThat(Context.current()).isSameAs(a);
      ContextStorage.get().attach(null).close();
      assertThat(Context.current()).isSameAs(a);
    }
  }

  @Test
  void closingAScopeThatIsNotCurrentIsIgnored_asOpenTelemetryDoes() {
    Context a = Context.root().with(KEY, "a");
    Context b = a.with(KEY, "b");
    Scope outer = a.makeCurrent();
    Scope inner = b.makeCurrent();
    outer.close(); // out of order: ignored
    assertThat(Context.current()).isSameAs(b);
    inner.close();
    inner.close(); // twice: ignored
    assertThat(Context.current()).isSameAs(a);
    outer.close();
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void closingAScopeOnAnotherThread_isIgnoredThere_andThrowsInStrictMode() throws Exception {
    Context a = Context.root().with(KEY, "a");
    Scope scope = a.makeCurrent();
    Scope strictScope = new ContextVarsStorage(true).attach(a.with(KEY, "strict"));
    CompletableFuture<@Nullable Throwable> lenient = new CompletableFuture<>();
    CompletableFuture<@Nullable Throwable> strict = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("the other thread")
        .start(
            () -> {
              lenient.complete(catchThrowable(scope::close));
              strict.complete(catchThrowable(strictScope::close));
            });
    assertThat(lenient.get(10, TimeUnit.SECONDS)).as("default mode: ignored").isNull();
    assertThat(strict.get(10, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not the current one")
        .hasMessageContaining("on thread \"" + Thread.currentThread().getName() + "\"");
    // Neither close reached this thread: both scopes are still open here, and close in order.
    assertThat(Context.current().get(KEY)).isEqualTo("strict");
    strictScope.close();
    assertThat(Context.current()).isSameAs(a);
    scope.close();
  }

  @Test
  void strictModeThrowsOnAMisplacedCloseAndSaysWhereTheScopeWasOpened() {
    ContextStorage strict = new ContextVarsStorage(true);
    Context a = Context.root().with(KEY, "a");
    Context b = a.with(KEY, "b");
    Scope outer = strict.attach(a);
    Scope inner = strict.attach(b);
    assertThatThrownBy(outer::close)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not the current one")
        .hasMessageContaining(Thread.currentThread().getName())
        .cause()
        .hasMessageContaining("opened here");
    assertThat(strict.current()).isSameAs(b);
    inner.close();
    assertThatThrownBy(inner::close).hasMessageContaining("already closed");
    outer.close();
    assertThat(strict.current()).isNull();
  }

  @Test
  void wrapAndTaskWrappingRunInTheContextTheyWereGiven() throws Exception {
    Context a = Context.root().with(KEY, "a");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CompletableFuture<String> seen = new CompletableFuture<>();
      Runnable task = () -> seen.complete(Context.current().get(KEY));
      pool.execute(a.wrap(task));
      assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("a");
      try (Scope ignored = a.makeCurrent()) {
        ExecutorService wrapped = Context.taskWrapping(pool);
        assertThat(wrapped.submit(() -> Context.current().get(KEY)).get(10, TimeUnit.SECONDS))
            .isEqualTo("a");
      }
      assertThat(pool.submit(() -> Context.current()).get(10, TimeUnit.SECONDS))
          .isSameAs(Context.root());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void oneCopyCarriesTheSpanTheBaggageAndEveryVariable() {
    ContextVar<String> user = ContextVar.named("user");
    Span span = TRACER.spanBuilder("request").startSpan();
    org.contextvars4j.Context snapshot;
    try (Scope s = span.makeCurrent();
        Scope b = Baggage.builder().put("tenant", "acme").build().makeCurrent();
        var token = user.set("alice")) {
      snapshot = org.contextvars4j.Context.copyCurrent();
    } finally {
      span.end();
    }
    assertThat(Span.current().getSpanContext().isValid()).isFalse();
    snapshot.run(() -> {
      assertThat(Span.current().getSpanContext()).isEqualTo(span.getSpanContext());
      assertThat(Baggage.current().getEntryValue("tenant")).isEqualTo("acme");
      assertThat(user.get()).isEqualTo("alice");
    });
  }

  @Test
  void theWrappersCarrySpansWithoutTaskWrapping_andAForgottenScopeNeverLeaks() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    Span span = TRACER.spanBuilder("request").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      assertThat(pool.submit(() -> Span.current().getSpanContext()).get(10, TimeUnit.SECONDS))
          .isEqualTo(span.getSpanContext());
      assertThat(
              ContextFutures.supplyAsync(() -> "x", pool)
                  .thenApply(x -> Span.current().getSpanContext())
                  .get(10, TimeUnit.SECONDS))
          .isEqualTo(span.getSpanContext());
      // A task that attaches a context and never closes its scope.
      pool.submit(() -> Context.root().with(KEY, "forgotten").makeCurrent()).get(10, TimeUnit.SECONDS);
    } finally {
      span.end();
      try {
        assertThat(pool.submit(() -> Context.current()).get(10, TimeUnit.SECONDS))
            .as("the next task on that thread")
            .isSameAs(Context.root());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void concurrentRequestsEachSeeOnlyTheirOwnSpan() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
    try {
      List<Future<Boolean>> checks = new ArrayList<>();
      for (int request = 0; request < 1_000; request++) {
        Span span = TRACER.spanBuilder("r" + request).startSpan();
        int hops = 1 + random.nextInt(4);
        new org.contextvars4j.Context().run(() -> {
          span.makeCurrent(); // never closed: the request's own context ends with it
          for (int hop = 0; hop < hops; hop++) {
            checks.add(pool.submit(() -> {
              boolean right = Span.current().getSpanContext().equals(span.getSpanContext());
              Context.current().with(KEY, "task's own").makeCurrent();
              return right;
            }));
          }
        });
        span.end();
      }
      for (Future<Boolean> check : checks) {
        assertThat(check.get(30, TimeUnit.SECONDS)).as("seed %d", seed).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aScopeClosedInACopyRestoresWhatWasCurrentBeforeItThere() {
    Context a = Context.root().with(KEY, "a");
    // In a context of its own, which ends with the run: what stays attached there goes with it.
    new org.contextvars4j.Context().run(() -> {
      Scope scope = a.makeCurrent();
      org.contextvars4j.Context copy = org.contextvars4j.Context.copyCurrent();
      copy.run(() -> {
        scope.close();
        assertThat(Context.current()).isSameAs(Context.root());
      });
      // The copy's close was the scope's one close: a second one, here, is ignored.
      scope.close();
      assertThat(Context.current()).isSameAs(a);
    });
  }
}
