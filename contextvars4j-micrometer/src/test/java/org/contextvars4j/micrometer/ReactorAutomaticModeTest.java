package org.contextvars4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.context.ContextRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
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

  /**
   * 1,000 subscribers in flight at once, each with its own values put into Reactor's context two
   * ways: a whole context under the accessor's key (request and user) and a variable with a key of
   * its own (tenant, through {@link ContextVarAccessor}). Every operator on every scheduler checks
   * all three, and that no other subscriber's set reached it: each check sets {@code last_seen} to
   * its subscriber's id, so a set that outlived its signal's scope on a pooled thread would be seen
   * by the next subscriber to run there.
   */
  @Test
  void aThousandConcurrentSubscribers_eachSeeOnlyTheirOwnValues_inEveryOperator() {
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    String replay = "seed " + seed + " (replay with -Dcv4j.seed=" + seed + ")";
    System.out.println("ReactorAutomaticModeTest, 1,000 subscribers: " + replay);
    Random random = new Random(seed);
    ContextVar<String> user = ContextVar.named("user");
    ContextVar<String> tenant = ContextVar.named("tenant");
    ContextVar<String> lastSeen = ContextVar.named("last_seen");
    ContextRegistry.getInstance()
        .registerThreadLocalAccessor(ContextVarAccessor.of("tenant", tenant));
    AtomicInteger checks = new AtomicInteger();
    Queue<String> mismatches = new ConcurrentLinkedQueue<>();
    try {
      int subscribers = 1_000;
      int expectedChecks = 0;
      List<Mono<List<String>>> requests = new ArrayList<>();
      List<List<String>> expected = new ArrayList<>();
      for (int i = 0; i < subscribers; i++) {
        String id = "r" + i;
        String userName = "u" + i;
        String tenantName = "t" + i;
        int elements = 1 + random.nextInt(3);
        int delay = random.nextInt(3);
        Scheduler hop = random.nextBoolean() ? Schedulers.parallel() : Schedulers.boundedElastic();
        Context values =
            new Context()
                .call(
                    () -> {
                      REQUEST.set(id);
                      user.set(userName);
                      return Context.copyCurrent();
                    });
        // What a check expects: its own request, user and tenant, and no one else's set.
        Runnable check =
            () -> {
              checks.incrementAndGet();
              String seen =
                  REQUEST.getOrDefault("-")
                      + "/"
                      + user.getOrDefault("-")
                      + "/"
                      + tenant.getOrDefault("-")
                      + "/"
                      + lastSeen.getOrDefault(id);
              String wanted = id + "/" + userName + "/" + tenantName + "/" + id;
              if (!seen.equals(wanted)) {
                mismatches.add(
                    "wanted "
                        + wanted
                        + " on "
                        + Thread.currentThread().getName()
                        + ", saw "
                        + seen);
              }
              lastSeen.set(id);
            };
        // One check on subscription, then map, the callable, handle and doOnNext on each element.
        expectedChecks += 1 + 4 * elements;
        List<String> output = new ArrayList<>();
        for (int e = 0; e < elements; e++) {
          output.add(id + ":" + e);
        }
        expected.add(output);
        requests.add(
            Flux.defer(
                    () -> {
                      check.run();
                      return Flux.range(0, elements);
                    })
                .subscribeOn(Schedulers.parallel())
                .delayElements(Duration.ofMillis(delay))
                .publishOn(Schedulers.parallel())
                .map(
                    e -> {
                      check.run();
                      return e;
                    })
                .flatMap(
                    e ->
                        Mono.fromCallable(
                                () -> {
                                  check.run();
                                  return id + ":" + e;
                                })
                            .subscribeOn(Schedulers.boundedElastic()))
                .<String>handle(
                    (v, sink) -> {
                      check.run();
                      sink.next(v);
                    })
                .publishOn(hop)
                .doOnNext(v -> check.run())
                // flatMap may reorder a subscriber's elements; the order is not what is tested.
                .collectSortedList()
                .contextWrite(
                    ctx ->
                        ctx.put(ContextThreadLocalAccessor.KEY, values).put("tenant", tenantName)));
      }
      List<List<String>> seen =
          Flux.mergeSequential(requests, subscribers, 1)
              .collectList()
              .block(Duration.ofSeconds(30));
      assertThat(mismatches).as("mismatches, %s", replay).isEmpty();
      assertThat(checks.get()).as("checks made, %s", replay).isEqualTo(expectedChecks);
      assertThat(seen).as(replay).containsExactlyElementsOf(expected);
      assertThat(REQUEST.isBound() || tenant.isBound() || lastSeen.isBound())
          .as("nothing reached the subscribing thread")
          .isFalse();
    } finally {
      ContextRegistry.getInstance().removeThreadLocalAccessor("tenant");
    }
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
