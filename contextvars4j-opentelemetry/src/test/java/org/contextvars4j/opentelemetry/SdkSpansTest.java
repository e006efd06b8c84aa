package org.contextvars4j.opentelemetry;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.contextvars4j.concurrent.ContextThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Spans made by the real SDK ({@link SdkTracerProvider}, {@link SimpleSpanProcessor}, an exporter
 * that collects the ended spans) keep their parent across every hand-over of {@code
 * org.contextvars4j.concurrent}, with no {@code Context.taskWrapping} and no explicit {@code
 * setParent}: a child span started in a task of a wrapped pool, in each stage of a {@link
 * ContextFutures} chain, or on a virtual thread started through {@link ContextThreads} or a
 * wrapped executor, has the span current at the hand-over as its parent, in the same trace, as
 * the exported {@link SpanData} say. A span current in one task never reaches the next task on the
 * same pooled thread, and many interleaved requests on one shared pool each keep their own spans.
 *
 * <p>The controls (an unwrapped pool, a plain virtual thread) show that the same assertions fail
 * where nothing carries the context: in this storage a thread's own context starts empty.
 *
 * <p>Runs in the default surefire execution, where OpenTelemetry finds this module's storage by
 * its service lookup ({@code opentelemetry-sdk-testing}, whose exporter would bring OpenTelemetry's
 * settable storage, is kept off that class path: hence the small exporter here).
 */
class SdkSpansTest {
  /** The seed of the random interleavings: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final long TIMEOUT_SECONDS = 10;
  private static final AttributeKey<String> THREAD = AttributeKey.stringKey("thread");
  private static final AttributeKey<Boolean> VIRTUAL = AttributeKey.booleanKey("virtual");
  private static final AttributeKey<Long> REQUEST = AttributeKey.longKey("request");

  private static final CollectingExporter EXPORTED = new CollectingExporter();
  private static final SdkTracerProvider TRACING =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(EXPORTED)).build();
  private static final Tracer TRACER = TRACING.get("SdkSpansTest");

  private final List<ExecutorService> pools = new ArrayList<>();

  @BeforeAll
  static void openTelemetryUsesThisModulesStorage() {
    // Otherwise the wrappers could not carry a span, and the controls would be all that passes.
    assertThat(ContextStorage.get()).isSameAs(ContextVarsStorageProvider.storage());
  }

  @AfterAll
  static void shutDown() {
    TRACING.close();
  }

  @BeforeEach
  void forgetEarlierSpans() {
    EXPORTED.finished.clear();
  }

  @AfterEach
  void nothingLeftCurrent_andThePoolsStopped() throws Exception {
    assertThat(Context.current()).isSameAs(Context.root());
    for (ExecutorService pool : pools) {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
    }
  }

  @Test
  void aTaskOfAWrappedPool_startsItsSpanAsAChildOfTheSubmittersSpan() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(pool("cv4j-pool-", 2));
    Span request = TRACER.spanBuilder("request").startSpan();
    CountDownLatch executed = new CountDownLatch(1);
    Future<?> submitted;
    try (Scope ignored = request.makeCurrent()) {
      submitted = pool.submit(() -> child("submit"));
      pool.execute(
          () -> {
            child("execute");
            executed.countDown();
          });
      pool.invokeAll(
          List.<Callable<String>>of(() -> child("invokeAll")), TIMEOUT_SECONDS, SECONDS);
    } finally {
      request.end();
    }
    submitted.get(TIMEOUT_SECONDS, SECONDS);
    assertThat(executed.await(TIMEOUT_SECONDS, SECONDS)).isTrue();

    for (String name : List.of("submit", "execute", "invokeAll")) {
      SpanData child = exported(name);
      assertChildOf(child, request);
      assertThat(child.getAttributes().get(THREAD)).as(name).startsWith("cv4j-pool-");
    }
  }

  @Test
  void control_aTaskOfAnUnwrappedPoolStartsARootSpan() throws Exception {
    ExecutorService plain = pool("cv4j-plain-", 1);
    Span request = TRACER.spanBuilder("request").startSpan();
    Future<?> submitted;
    try (Scope ignored = request.makeCurrent()) {
      submitted = plain.submit(() -> child("unwrapped"));
    } finally {
      request.end();
    }
    submitted.get(TIMEOUT_SECONDS, SECONDS);
    assertRootSpan(exported("unwrapped"), request);
  }

  @Test
  void everyStageOfAContextFuturesChain_startsItsSpanUnderTheSpanCurrentWhereItWasAttached()
      throws Exception {
    ExecutorService pool = pool("cv4j-stages-", 2); // the futures capture; the pool is plain
    CountDownLatch gate = new CountDownLatch(1);
    Span request = TRACER.spanBuilder("request").startSpan();
    CompletableFuture<String> chain;
    try (Scope ignored = request.makeCurrent()) {
      chain =
          ContextFutures.supplyAsync(
                  () -> {
                    await(gate); // every stage below is attached before anything runs
                    return child("supplyAsync");
                  },
                  pool)
              .thenApplyAsync(previous -> child("thenApplyAsync"), pool)
              // Dependent: runs on the pool thread that completes the stage before.
              .thenApply(previous -> child("thenApply"))
              .thenCompose(
                  previous -> ContextFutures.supplyAsync(() -> child("thenCompose"), pool))
              .thenCombine(
                  ContextFutures.supplyAsync(() -> child("combined"), pool),
                  (left, right) -> child("thenCombine"))
              .whenComplete((value, failure) -> child("whenComplete"))
              .handleAsync((value, failure) -> child("handleAsync"), pool)
              .thenApplyAsync(previous -> child("thenApplyAsync-defaultExecutor"));
    }
    // The scope is closed and the test thread is back at root before any stage runs.
    gate.countDown();
    chain.get(TIMEOUT_SECONDS, SECONDS);

    // A stage attached later, elsewhere, takes the span current where it is attached.
    Span other = TRACER.spanBuilder("other-request").startSpan();
    CompletableFuture<String> late;
    try (Scope ignored = other.makeCurrent()) {
      late = chain.thenApplyAsync(previous -> child("attachedLater"), pool);
    } finally {
      other.end();
    }
    late.get(TIMEOUT_SECONDS, SECONDS);
    request.end();

    for (String stage :
        List.of(
            "supplyAsync",
            "thenApplyAsync",
            "thenApply",
            "thenCompose",
            "combined",
            "thenCombine",
            "whenComplete",
            "handleAsync")) {
      SpanData child = exported(stage);
      assertChildOf(child, request);
      assertThat(child.getAttributes().get(THREAD)).as(stage).startsWith("cv4j-stages-");
    }
    assertChildOf(exported("thenApplyAsync-defaultExecutor"), request);
    assertChildOf(exported("attachedLater"), other);
  }

  @Test
  void aVirtualThreadStartedThroughTheWrappers_startsItsSpanUnderTheStartersSpan()
      throws Exception {
    ExecutorService perTask = ContextExecutors.newVirtualThreadPerTaskExecutor();
    pools.add(perTask);
    ExecutorService wrappedPerTask =
        ContextExecutors.wrap(Executors.newVirtualThreadPerTaskExecutor());
    pools.add(wrappedPerTask);
    Span request = TRACER.spanBuilder("request").startSpan();
    Thread started;
    Thread unstarted;
    List<Future<?>> tasks = new ArrayList<>();
    try (Scope ignored = request.makeCurrent()) {
      started =
          ContextThreads.start(Thread.ofVirtual().name("cv4j-virtual"), () -> child("start"));
      // Captures the context now, when made: it is started below, after the scope is closed.
      unstarted = ContextThreads.unstarted(Thread.ofVirtual(), () -> child("unstarted"));
      tasks.add(perTask.submit(() -> child("newVirtualThreadPerTaskExecutor")));
      tasks.add(wrappedPerTask.submit(() -> child("wrap(newVirtualThreadPerTaskExecutor)")));
    }
    unstarted.start();
    assertThat(started.join(Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();
    assertThat(unstarted.join(Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();
    for (Future<?> task : tasks) {
      task.get(TIMEOUT_SECONDS, SECONDS);
    }
    request.end();

    for (String name :
        List.of(
            "start",
            "unstarted",
            "newVirtualThreadPerTaskExecutor",
            "wrap(newVirtualThreadPerTaskExecutor)")) {
      SpanData child = exported(name);
      assertChildOf(child, request);
      assertThat(child.getAttributes().get(VIRTUAL)).as(name + " on a virtual thread").isTrue();
    }
  }

  @Test
  void control_aPlainVirtualThreadStartsARootSpan() throws Exception {
    Span request = TRACER.spanBuilder("request").startSpan();
    Thread plain;
    try (Scope ignored = request.makeCurrent()) {
      plain = Thread.ofVirtual().start(() -> child("plain virtual"));
    } finally {
      request.end();
    }
    assertThat(plain.join(Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();
    assertRootSpan(exported("plain virtual"), request);
  }

  @Test
  void aSpanCurrentInOneTask_neverReachesTheNextTaskOnThePooledThread() throws Exception {
    ExecutorService single = ContextExecutors.wrap(pool("cv4j-single-", 1));
    Span request = TRACER.spanBuilder("request").startSpan();
    String firstThread;
    try (Scope ignored = request.makeCurrent()) {
      firstThread =
          single
              .submit(
                  () -> {
                    // Task 1 runs with the request's span current, and makes one of its own
                    // current without ever closing the scope.
                    assertThat(Span.current().getSpanContext())
                        .isEqualTo(request.getSpanContext());
                    Span own = TRACER.spanBuilder("task-1").startSpan();
                    own.makeCurrent();
                    own.end();
                    return Thread.currentThread().getName();
                  })
              .get(TIMEOUT_SECONDS, SECONDS);
    } finally {
      request.end();
    }
    // Task 2, submitted from here, where no span is current.
    assertThat(Span.current().getSpanContext().isValid()).isFalse();
    record Seen(String thread, SpanContext span, Context context) {}
    Seen seen =
        single
            .submit(
                () -> {
                  Seen now =
                      new Seen(
                          Thread.currentThread().getName(),
                          Span.current().getSpanContext(),
                          Context.current());
                  child("task-2");
                  return now;
                })
            .get(TIMEOUT_SECONDS, SECONDS);

    assertThat(seen.thread()).as("both tasks on the pool's one thread").isEqualTo(firstThread);
    assertThat(seen.span().isValid()).as("a span current in task 2: %s", seen.span()).isFalse();
    assertThat(seen.context()).isSameAs(Context.root());
    assertChildOf(exported("task-1"), request);
    assertRootSpan(exported("task-2"), request);
    assertThat(exported("task-2").getParentSpanId()).isNotEqualTo(exported("task-1").getSpanId());
  }

  @Test
  void manyInterleavedRequests_everyChildIsUnderItsOwnRequestsSpan() throws Exception {
    System.out.printf("SdkSpansTest: seed %d (replay with -Dcv4j.seed=%d)%n", SEED, SEED);
    Random random = new Random(SEED);
    int requests = 200;
    // Drawn up front from the seed: how many children each request has, how each is handed
    // over, how long it dawdles, and whether the request ends before its children run.
    int[][] kinds = new int[requests][];
    int[][] dawdles = new int[requests][];
    int expectedChildren = 0;
    for (int r = 0; r < requests; r++) {
      int children = 1 + random.nextInt(4);
      kinds[r] = new int[children];
      dawdles[r] = new int[children];
      for (int c = 0; c < children; c++) {
        kinds[r][c] = random.nextInt(4);
        dawdles[r][c] = random.nextInt(64);
      }
      expectedChildren += children;
    }

    ExecutorService shared = ContextExecutors.wrap(pool("cv4j-shared-", 4));
    // The requests themselves run three at a time, each in its own copy of a span-less context.
    ExecutorService front = ContextExecutors.wrap(pool("cv4j-front-", 3));
    Map<Long, SpanContext> roots = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<Future<?>> children = new ConcurrentLinkedQueue<>();
    List<Future<?>> requestsDone = new ArrayList<>();
    for (int r = 0; r < requests; r++) {
      long request = r;
      int[] kind = kinds[r];
      int[] dawdle = dawdles[r];
      requestsDone.add(
          front.submit(
              () -> {
                Span root =
                    TRACER
                        .spanBuilder("request")
                        .setNoParent()
                        .setAttribute(REQUEST, request)
                        .startSpan();
                roots.put(request, root.getSpanContext());
                try (Scope ignored = root.makeCurrent()) {
                  for (int c = 0; c < kind.length; c++) {
                    int spins = dawdle[c];
                    Runnable work = () -> requestChild(request, spins);
                    children.add(
                        switch (kind[c]) {
                          case 0 -> shared.submit(work);
                          case 1 -> ContextFutures.runAsync(work, shared);
                          case 2 ->
                              ContextFutures.supplyAsync(() -> dawdle(spins), shared)
                                  .thenRun(work); // a dependent stage, on a shared thread or here
                          default ->
                              ContextFutures.supplyAsync(() -> dawdle(spins), shared)
                                  .thenRunAsync(work, shared);
                        });
                  }
                } finally {
                  root.end(); // often before its children run: they keep their parent anyway
                }
              }));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Future<?> done : requestsDone) {
      getBefore(done, deadline);
    }
    for (Future<?> child : children) {
      getBefore(child, deadline);
    }

    List<String> mismatches = new ArrayList<>();
    int checked = 0;
    for (SpanData span : EXPORTED.finished) {
      if (!span.getName().equals("child")) {
        continue;
      }
      checked++;
      long request = span.getAttributes().get(REQUEST);
      SpanContext root = roots.get(request);
      if (!span.getParentSpanId().equals(root.getSpanId())
          || !span.getTraceId().equals(root.getTraceId())) {
        mismatches.add(
            "child of request "
                + request
                + " on "
                + span.getAttributes().get(THREAD)
                + ": parent "
                + span.getParentSpanId()
                + ", expected "
                + root.getSpanId());
      }
    }
    assertThat(mismatches)
        .as("seed %d: children not under their own request's span; first ones", SEED)
        .isEmpty();
    assertThat(checked).as("seed %d: children exported", SEED).isEqualTo(expectedChildren);
    assertThat(roots).hasSize(requests);
    assertThat(EXPORTED.finished).hasSize(requests + expectedChildren);
  }

  /** A child of the current span, named {@code name}, saying where it ran; returns its name. */
  private static String child(String name) {
    Thread thread = Thread.currentThread();
    TRACER
        .spanBuilder(name)
        .setAttribute(THREAD, thread.getName())
        .setAttribute(VIRTUAL, thread.isVirtual())
        .startSpan()
        .end();
    return name;
  }

  /**
   * A child of the current span, for {@code request}, started after some dawdling that shuffles
   * the tasks.
   */
  private static void requestChild(long request, int spins) {
    dawdle(spins);
    TRACER
        .spanBuilder("child")
        .setAttribute(REQUEST, request)
        .setAttribute(THREAD, Thread.currentThread().getName())
        .startSpan()
        .end();
  }

  /** Yields {@code spins} times: changes the interleaving, waits for nothing. */
  private static int dawdle(int spins) {
    for (int i = 0; i < spins; i++) {
      Thread.yield();
    }
    return spins;
  }

  private static void await(CountDownLatch gate) {
    try {
      if (!gate.await(TIMEOUT_SECONDS, SECONDS)) {
        throw new IllegalStateException("the gate was never opened");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void getBefore(Future<?> future, long deadline) throws Exception {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new TimeoutException("seed " + SEED + ": the requests did not finish in time");
    }
    future.get(left, TimeUnit.NANOSECONDS);
  }

  private ExecutorService pool(String prefix, int threads) {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads, Thread.ofPlatform().name(prefix, 0).daemon(true).factory());
    pools.add(pool);
    return pool;
  }

  /** The one exported span named {@code name}. */
  private static SpanData exported(String name) {
    List<SpanData> named =
        EXPORTED.finished.stream().filter(span -> span.getName().equals(name)).toList();
    assertThat(named).as("exported spans named %s", name).hasSize(1);
    return named.get(0);
  }

  private static void assertChildOf(SpanData child, Span parent) {
    SpanContext expected = parent.getSpanContext();
    assertThat(child.getParentSpanId())
        .as("%s's parent", child.getName())
        .isEqualTo(expected.getSpanId());
    assertThat(child.getTraceId())
        .as("%s's trace", child.getName())
        .isEqualTo(expected.getTraceId());
  }

  private static void assertRootSpan(SpanData span, Span notItsParent) {
    assertThat(span.getParentSpanContext().isValid())
        .as("%s has a parent", span.getName())
        .isFalse();
    assertThat(span.getTraceId()).isNotEqualTo(notItsParent.getSpanContext().getTraceId());
  }

  /** Collects the ended spans, as the SDK's in-memory exporter does. */
  private static final class CollectingExporter implements SpanExporter {
    final List<SpanData> finished = new CopyOnWriteArrayList<>();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      finished.addAll(spans);
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
