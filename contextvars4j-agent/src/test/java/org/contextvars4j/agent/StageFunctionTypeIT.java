package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.name;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A stage's function that implements more than one of the functional interfaces (a callback
 * class that is a {@code Function} and a {@code Runnable}, say) is bound as the interface the
 * stage method takes: {@code thenRun(f)} runs {@code f.run()}, {@code thenApply(f)} calls {@code
 * f.apply}, each in the context where the stage was attached. Bound by the object's runtime type
 * instead, the wrapper would be of another interface than the JDK's method declares, and the JDK
 * would fail with a {@code ClassCastException} or call the wrong method.
 */
final class StageFunctionTypeIT {

  private static final String ATTACHER = "attacher's";

  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(1);
  }

  @AfterAll
  static void stopPool() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
  }

  /**
   * A callback that is every functional interface a stage takes but {@code BiFunction}, whose
   * {@code andThen} clashes with {@code Function}'s. Each method records which interface was
   * called and what {@code NAME} was there.
   */
  static final class Callback
      implements Function<String, String>,
          Consumer<String>,
          BiConsumer<String, Throwable>,
          Supplier<String>,
          Runnable {
    final Queue<String> calls = new ConcurrentLinkedQueue<>();

    @Override
    public String apply(String value) {
      calls.add("Function " + name());
      return value;
    }

    @Override
    public void accept(String value) {
      calls.add("Consumer " + name());
    }

    @Override
    public void accept(String value, Throwable failure) {
      calls.add("BiConsumer " + name());
    }

    @Override
    public String get() {
      calls.add("Supplier " + name());
      return "supplied";
    }

    @Override
    public void run() {
      calls.add("Runnable " + name());
    }
  }

  /** A callback that is a {@code BiFunction}, a {@code Consumer} and a {@code Runnable}. */
  static final class BiCallback
      implements BiFunction<String, Object, String>, Consumer<String>, Runnable {
    final Queue<String> calls = new ConcurrentLinkedQueue<>();

    @Override
    public String apply(String value, Object other) {
      calls.add("BiFunction " + name());
      return value;
    }

    @Override
    public void accept(String value) {
      calls.add("Consumer " + name());
    }

    @Override
    public void run() {
      calls.add("Runnable " + name());
    }
  }

  /** How a stage is attached to a future that another future may complete too. */
  @FunctionalInterface
  interface Attach {
    CompletableFuture<?> to(CompletableFuture<String> source, CompletableFuture<String> other);
  }

  /** One stage method: how it attaches {@link Callback} or {@link BiCallback}, and which call. */
  record Row(String interfaceCalled, boolean bi, Function<Object, Attach> attach) {}

  private static Named<Row> row(String method, String called, Function<Callback, Attach> attach) {
    return Named.of(method, new Row(called, false, c -> attach.apply((Callback) c)));
  }

  private static Named<Row> biRow(
      String method, String called, Function<BiCallback, Attach> attach) {
    return Named.of(method, new Row(called, true, c -> attach.apply((BiCallback) c)));
  }

  /** {@return {@code c} as {@code handle} takes it: its second argument is any object} */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static BiFunction<String, Throwable, String> onFailure(BiCallback c) {
    return (BiFunction) c;
  }

  static Stream<Named<Row>> stageMethods() {
    List<Named<Row>> rows = new ArrayList<>();
    rows.add(row("thenApply", "Function", c -> (s, o) -> s.thenApply(c)));
    rows.add(row("thenApplyAsync", "Function", c -> (s, o) -> s.thenApplyAsync(c, pool)));
    rows.add(row("thenAccept", "Consumer", c -> (s, o) -> s.thenAccept(c)));
    rows.add(row("thenAcceptAsync", "Consumer", c -> (s, o) -> s.thenAcceptAsync(c, pool)));
    rows.add(row("thenRun", "Runnable", c -> (s, o) -> s.thenRun(c)));
    rows.add(row("thenRunAsync", "Runnable", c -> (s, o) -> s.thenRunAsync(c, pool)));
    rows.add(row("whenComplete", "BiConsumer", c -> (s, o) -> s.whenComplete(c)));
    rows.add(row("whenCompleteAsync", "BiConsumer", c -> (s, o) -> s.whenCompleteAsync(c, pool)));
    rows.add(row("applyToEither", "Function", c -> (s, o) -> s.applyToEither(o, c)));
    rows.add(row("acceptEither", "Consumer", c -> (s, o) -> s.acceptEither(o, c)));
    rows.add(row("runAfterEither", "Runnable", c -> (s, o) -> s.runAfterEither(o, c)));
    rows.add(row("runAfterBoth", "Runnable", c -> (s, o) -> s.runAfterBoth(o, c)));
    rows.add(row("supplyAsync", "Supplier", c -> (s, o) -> CompletableFuture.supplyAsync(c, pool)));
    rows.add(row("runAsync", "Runnable", c -> (s, o) -> CompletableFuture.runAsync(c, pool)));
    rows.add(row("completeAsync", "Supplier", c -> (s, o) -> new CompletableFuture<String>().completeAsync(c, pool)));
    rows.add(biRow("handle", "BiFunction", c -> (s, o) -> s.handle(onFailure(c))));
    rows.add(biRow("handleAsync", "BiFunction", c -> (s, o) -> s.handleAsync(onFailure(c), pool)));
    rows.add(biRow("thenCombine", "BiFunction", c -> (s, o) -> s.thenCombine(o, c)));
    rows.add(biRow("thenCombineAsync", "BiFunction", c -> (s, o) -> s.thenCombineAsync(o, c, pool)));
    rows.add(biRow("thenAccept, BiFunction also a Consumer", "Consumer", c -> (s, o) -> s.thenAccept(c)));
    rows.add(biRow("thenRun, BiFunction also a Runnable", "Runnable", c -> (s, o) -> s.thenRun(c)));
    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("stageMethods")
  void aFunctionOfSeveralInterfaces_isCalledAsTheOneTheMethodTakes_inTheAttachingContext(Row row)
      throws Exception {
    Callback callback = new Callback();
    BiCallback biCallback = new BiCallback();
    CompletableFuture<String> source = new CompletableFuture<>();
    CompletableFuture<String> other = new CompletableFuture<>();
    List<CompletableFuture<?>> stage = new ArrayList<>();
    inNewContext(
        () -> {
          NAME.set(ATTACHER);
          stage.add(row.attach().apply(row.bi() ? biCallback : callback).to(source, other));
        });
    // Completed elsewhere, in another context: the stage must still see the attacher's.
    inNewContext(
        () -> {
          NAME.set("completer's");
          source.complete("value");
          other.complete("other");
        });
    stage.get(0).get(TIMEOUT_SECONDS, SECONDS);
    Queue<String> calls = row.bi() ? biCallback.calls : callback.calls;
    assertThat(calls).containsExactly(row.interfaceCalled() + " " + ATTACHER);
  }
}
