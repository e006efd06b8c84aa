package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Deadline;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.junit.jupiter.api.Test;

/**
 * gRPC's {@link Context} with {@code io.grpc:grpc-context-override-opentelemetry} on the class
 * path: gRPC stores its context in OpenTelemetry's, which this module stores in a {@code
 * ContextVar}. So values, deadlines and cancellation follow contextvars4j's contexts, with no gRPC
 * module of contextvars4j's.
 */
class GrpcThroughOpenTelemetryTest {
  private static final Context.Key<String> KEY = Context.key("key");

  @Test
  void gRpcsContextLivesInOpenTelemetrysContext() {
    Context.current().withValue(KEY, "v").run(() -> {
      assertThat(io.opentelemetry.context.Context.current())
          .as("gRPC attached into OpenTelemetry's storage, so into ours")
          .isNotSameAs(io.opentelemetry.context.Context.root());
      assertThat(KEY.get()).isEqualTo("v");
    });
    assertThat(KEY.get()).isNull();
    assertThat(io.opentelemetry.context.Context.current())
        .isSameAs(io.opentelemetry.context.Context.root());
  }

  @Test
  void oneCopyCarriesGrpcValuesWithEveryVariable() {
    ContextVar<String> user = ContextVar.named("user");
    org.contextvars4j.Context[] snapshot = new org.contextvars4j.Context[1];
    Context.current().withValue(KEY, "v").run(() -> {
      try (var token = user.set("alice")) {
        snapshot[0] = org.contextvars4j.Context.copyCurrent();
      }
    });
    snapshot[0].run(() -> {
      assertThat(KEY.get()).isEqualTo("v");
      assertThat(user.get()).isEqualTo("alice");
    });
    assertThat(KEY.get()).isNull();
  }

  @Test
  void theWrappersCarryValuesDeadlinesAndCancellation() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(2));
    Context.CancellableContext request =
        Context.current().withValue(KEY, "v").withDeadlineAfter(1, TimeUnit.HOURS, timer);
    try {
      Deadline deadline = request.getDeadline();
      CompletableFuture<Void> release = new CompletableFuture<>();
      CompletableFuture<Boolean> cancelledSeen = new CompletableFuture<>();
      request.run(() -> {
        try {
          assertThat(pool.submit(() -> KEY.get()).get(10, TimeUnit.SECONDS)).isEqualTo("v");
          assertThat(pool.submit(() -> Context.current().getDeadline()).get(10, TimeUnit.SECONDS))
              .isEqualTo(deadline);
          assertThat(
                  ContextFutures.supplyAsync(() -> "x", pool)
                      .thenApply(x -> KEY.get())
                      .get(10, TimeUnit.SECONDS))
              .isEqualTo("v");
          pool.execute(() -> {
            release.join();
            cancelledSeen.complete(Context.current().isCancelled());
          });
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      request.cancel(null);
      release.complete(null);
      assertThat(cancelledSeen.get(10, TimeUnit.SECONDS))
          .as("a task running in the request's context sees its cancellation")
          .isTrue();
      assertThat(pool.submit(() -> KEY.get()).get(10, TimeUnit.SECONDS))
          .as("outside the request")
          .isNull();
    } finally {
      request.cancel(null);
      pool.shutdownNow();
      timer.shutdownNow();
    }
  }
}
