package org.contextvars4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.context.ContextRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Reactor's automatic context propagation with the accessor found by the registry alone: a
 * subscriber's variables are seen in every operator on every scheduler, and nothing one subscriber
 * sets or has reaches the next one on the same scheduler thread.
 */
class ReactorAutomaticModeTest {
  private static final ContextVar<String> REQUEST = ContextVar.named("request");
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @BeforeAll
  static void automaticMode() {
    Hooks.enableAutomaticContextPropagation();
  }

  @AfterAll
  static void off() {
    Hooks.disableAutomaticContextPropagation();
  }

  @Test
  void everyOperatorOnEverySchedulerSeesTheSubscribersValue() {
    String seen =
        new Context()
            .call(
                () -> {
                  REQUEST.set("r1");
                  return Mono.just("start")
                      .publishOn(Schedulers.parallel())
                      .map(v -> REQUEST.get())
                      .flatMap(
                          v ->
                              Mono.fromCallable(() -> v + "|" + REQUEST.get())
                                  .subscribeOn(Schedulers.boundedElastic()))
                      .<String>handle((v, sink) -> sink.next(v + "|" + REQUEST.get()))
                      .delayElement(Duration.ofMillis(1))
                      .map(v -> v + "|" + REQUEST.get())
                      .contextCapture()
                      .block(TIMEOUT);
                });
    assertThat(seen).isEqualTo("r1|r1|r1|r1");
  }

  @Test
  void aFluxWithDelayElementsKeepsTheValueOnEveryElement() {
    List<String> seen =
        new Context()
            .call(
                () -> {
                  REQUEST.set("r2");
                  return Flux.range(1, 5)
                      .delayElements(Duration.ofMillis(1))
                      .publishOn(Schedulers.parallel())
                      .map(i -> i + ":" + REQUEST.get())
                      .collectList()
                      .block(TIMEOUT);
                });
    assertThat(seen).containsExactly("1:r2", "2:r2", "3:r2", "4:r2", "5:r2");
  }

  @Test
  void nothingReachesTheNextSubscriberOnTheSameSchedulerThread() {
    Scheduler one = Schedulers.newSingle("one");
    try {
      String first =
          new Context()
              .call(
                  () -> {
                    REQUEST.set("r1");
                    return Mono.fromCallable(
                            () -> {
                              String had = REQUEST.get();
                              REQUEST.set("set inside the first subscriber");
                              return had;
                            })
                        .subscribeOn(one)
                        .block(TIMEOUT);
                  });
      assertThat(first).isEqualTo("r1");
      Boolean bound =
          new Context()
              .call(() -> Mono.fromCallable(REQUEST::isBound).subscribeOn(one).block(TIMEOUT));
      assertThat(bound).as("the next subscriber sees nothing of the first").isFalse();
    } finally {
      one.dispose();
    }
  }

  @Test
  void concurrentSubscribersEachSeeOnlyTheirOwnValue() {
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    System.out.println(
        "ReactorAutomaticModeTest: seed " + seed + " (replay with -Dcv4j.seed=" + seed + ")");
    Random random = new Random(seed);
    List<Mono<String>> requests = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String id = "r" + i;
      int delay = random.nextInt(3);
      expected.add(id + "|" + id + "|" + id);
      requests.add(
          new Context()
              .call(
                  () -> {
                    REQUEST.set(id);
                    return Mono.fromCallable(REQUEST::get)
                        .subscribeOn(Schedulers.boundedElastic())
                        .delayElement(Duration.ofMillis(delay))
                        .publishOn(Schedulers.parallel())
                        .map(v -> v + "|" + REQUEST.get())
                        .flatMap(
                            v ->
                                Mono.fromCallable(() -> v + "|" + REQUEST.get())
                                    .subscribeOn(Schedulers.parallel()))
                        // Subscribed later, elsewhere: the request's context goes into Reactor's
                        // under the accessor's key when the pipeline is built.
                        .contextWrite(
                            reactor.util.context.Context.of(
                                ContextThreadLocalAccessor.KEY, Context.copyCurrent()));
                  }));
    }
    List<String> seen = Flux.mergeSequential(requests).collectList().block(Duration.ofSeconds(30));
    assertThat(seen).containsExactlyElementsOf(expected);
  }

  @Test
  void aVariableWithAKeyOfItsOwnTakesItsValueFromReactorsContext() {
    ContextVar<String> requestId = ContextVar.named("request_id");
    ContextRegistry.getInstance()
        .registerThreadLocalAccessor(ContextVarAccessor.of("request_id", requestId));
    try {
      String seen =
          new Context()
              .call(
                  () ->
                      Mono.fromCallable(requestId::get)
                          .subscribeOn(Schedulers.parallel())
                          .map(v -> v + "|" + requestId.get())
                          .contextWrite(ctx -> ctx.put("request_id", "abc"))
                          .block(TIMEOUT));
      assertThat(seen).isEqualTo("abc|abc");
      assertThat(requestId.isBound()).as("not here, outside the pipeline").isFalse();
      // And back: a value set here is in Reactor's context under the key.
      String back =
          new Context()
              .call(
                  () -> {
                    requestId.set("from the caller");
                    return Mono.deferContextual(
                            ctx -> Mono.just(ctx.getOrDefault("request_id", "missing")))
                        .contextCapture()
                        .block(TIMEOUT);
                  });
      assertThat(back).isEqualTo("from the caller");
    } finally {
      ContextRegistry.getInstance().removeThreadLocalAccessor("request_id");
    }
  }
}
