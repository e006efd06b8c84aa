package org.contextvars4j.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Variables declared by {@link BaggageVars} cross a text carrier (a header map, as HTTP sends it)
 * through OpenTelemetry's own W3C baggage propagator, and are bound on the receiving side when
 * the extracted context is made current, for that scope only.
 */
class BaggageVarsTest {
  private static final AtomicInteger KEYS = new AtomicInteger();
  private static final TextMapPropagator PROPAGATOR = BaggageVars.propagator();
  private static final ContextKey<String> SPAN = ContextKey.named("a child span, say");

  private static final TextMapGetter<Map<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public @Nullable String get(@Nullable Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  /** A key no other test declared: declarations are for the JVM's life. */
  private static String freshKey(String name) {
    return name + "-" + KEYS.incrementAndGet();
  }

  /** The headers an outgoing request gets where this is called. */
  private static Map<String, String> send() {
    Map<String, String> headers = new HashMap<>();
    PROPAGATOR.inject(Context.current(), headers, Map::put);
    return headers;
  }

  /** What a service that receives {@code headers} extracts, in a fresh context as a server's. */
  private static Context receive(Map<String, String> headers) {
    return PROPAGATOR.extract(Context.root(), headers, GETTER);
  }

  @AfterEach
  void nothingLeftAttached() {
    assertThat(Context.current()).isSameAs(Context.root());
  }

  @Test
  void aDeclaredVariableCrossesAndIsBoundWhileTheReceivedContextIsCurrent() {
    ContextVar<String> tenant = BaggageVars.declare(ContextVar.named("tenant"), freshKey("tenant"));
    Map<String, String> headers =
        new org.contextvars4j.Context().call(() -> {
          tenant.set("acme");
          return send();
        });
    assertThat(headers).containsOnlyKeys("baggage");
    assertThat(headers.get("baggage")).contains("=acme");

    new org.contextvars4j.Context()
        .run(
            () -> {
              assertThat(tenant.isBound()).isFalse();
              try (Scope ignored = receive(headers).makeCurrent()) {
                assertThat(tenant.get()).isEqualTo("acme");
              }
              assertThat(tenant.isBound()).as("unbound when the scope is closed").isFalse();
            });
  }

  @Test
  void otherBaggageEntriesCrossBesideTheVariables_andTheEntryStaysInTheBaggage() {
    String key = freshKey("tenant");
    ContextVar<String> tenant = BaggageVars.declare(ContextVar.named("tenant"), key);
    Map<String, String> headers;
    try (Scope ignored =
        Baggage.builder().put("user", "alice").build().storeInContext(Context.root()).makeCurrent()) {
      // A copy: OpenTelemetry's context, its baggage here, lives in the contextvars4j context.
      headers = org.contextvars4j.Context.copyCurrent().call(() -> {
        tenant.set("acme");
        return send();
      });
    }
    Context received = receive(headers);
    try (Scope ignored = received.makeCurrent()) {
      assertThat(Baggage.current().getEntryValue("user")).isEqualTo("alice");
      assertThat(Baggage.current().getEntryValue(key)).isEqualTo("acme");
      assertThat(tenant.get()).isEqualTo("acme");
    }
  }

  @Test
  void valuesTheHeaderCannotCarryAsTheyAreComeBackExactly() {
    ContextVar<String> note = BaggageVars.declare(ContextVar.named("note"), freshKey("note"));
    String value = "a, b; c=d % \"é\" 100%";
    Map<String, String> headers = new org.contextvars4j.Context().call(() -> {
      note.set(value);
      return send();
    });
    try (Scope ignored = receive(headers).makeCurrent()) {
      assertThat(note.get()).isEqualTo(value);
    }
  }

  @Test
  void aCodecCarriesOtherTypes_andAValueItRejectsBindsNothingAndIsLogged() {
    String key = freshKey("shard");
    ContextVar<Integer> shard =
        BaggageVars.declare(
            ContextVar.named("shard"), key, BaggageVars.Codec.of(String::valueOf, Integer::valueOf));
    Map<String, String> headers = new org.contextvars4j.Context().call(() -> {
      shard.set(42);
      return send();
    });
    try (Scope ignored = receive(headers).makeCurrent()) {
      assertThat(shard.get()).isEqualTo(42);
    }

    List<LogRecord> logged = new ArrayList<>();
    Logger logger = Logger.getLogger(BaggageVars.class.getName());
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            logged.add(record);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Level level = logger.getLevel();
    logger.setLevel(Level.FINE);
    logger.addHandler(handler);
    try {
      Context received = receive(Map.of("baggage", key + "=not-a-number"));
      try (Scope ignored = received.makeCurrent()) {
        assertThat(shard.isBound()).isFalse();
        assertThat(Baggage.current().getEntryValue(key)).isEqualTo("not-a-number");
      }
    } finally {
      logger.removeHandler(handler);
      logger.setLevel(level);
    }
    assertThat(logged).singleElement().satisfies(record -> {
      assertThat(record.getLevel()).isEqualTo(Level.FINE);
      assertThat(record.getMessage()).contains(key);
      assertThat(record.getThrown()).isInstanceOf(NumberFormatException.class);
    });
  }

  @Test
  void aChildOfTheReceivedContextDoesNotBindTheValuesAgainOverWhatTheHandlerSet() {
    ContextVar<String> tenant = BaggageVars.declare(ContextVar.named("tenant"), freshKey("tenant"));
    Map<String, String> headers = new org.contextvars4j.Context().call(() -> {
      tenant.set("acme");
      return send();
    });
    Context received = receive(headers);
    try (Scope server = received.with(SPAN, "server span").makeCurrent()) {
      assertThat(tenant.get()).as("bound through a context made from the received one").isEqualTo("acme");
      tenant.set("changed by the handler");
      try (Scope child = Context.current().with(SPAN, "child span").makeCurrent()) {
        assertThat(tenant.get()).isEqualTo("changed by the handler");
      }
      assertThat(tenant.get()).isEqualTo("changed by the handler");
    }
  }

  @Test
  void theReceivedValuesFollowTheRequestIntoAWrappedPool() throws Exception {
    ContextVar<String> tenant = BaggageVars.declare(ContextVar.named("tenant"), freshKey("tenant"));
    Map<String, String> headers = new org.contextvars4j.Context().call(() -> {
      tenant.set("acme");
      return send();
    });
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try (Scope ignored = receive(headers).makeCurrent()) {
      assertThat(pool.submit(() -> tenant.get()).get(10, TimeUnit.SECONDS)).isEqualTo("acme");
      // And onwards: the pool's task sends what it sees.
      assertThat(pool.submit(BaggageVarsTest::send).get(10, TimeUnit.SECONDS).get("baggage"))
          .contains("=acme");
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void sending_anUnboundVariableLeavesTheBaggage_aBoundOneReplacesItsEntry_aNullIsNotSent() {
    String key = freshKey("tenant");
    ContextVar<@Nullable String> tenant = BaggageVars.declare(ContextVar.named("tenant"), key);
    try (Scope ignored =
        Baggage.builder().put(key, "from the baggage").build().storeInContext(Context.root())
            .makeCurrent()) {
      org.contextvars4j.Context.copyCurrent().run(() -> {
        assertThat(receiveValue(send(), key)).isEqualTo("from the baggage");
        tenant.set("from the variable");
        assertThat(receiveValue(send(), key)).isEqualTo("from the variable");
        tenant.set(null);
        assertThat(receiveValue(send(), key)).isEqualTo("from the baggage");
      });
    }
    try (Scope ignored = Context.root().makeCurrent()) {
      assertThat(new org.contextvars4j.Context().call(BaggageVarsTest::send)).isEmpty();
    }
  }

  private static @Nullable String receiveValue(Map<String, String> headers, String key) {
    return Baggage.fromContext(receive(headers)).getEntryValue(key);
  }

  @Test
  void badDeclarationsAreRefusedAndNameWhatIsWrong() {
    ContextVar<String> var = ContextVar.named("v");
    assertThatThrownBy(() -> BaggageVars.declare(null, "k"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("var");
    assertThatThrownBy(() -> BaggageVars.declare(var, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("key");
    assertThatThrownBy(() -> BaggageVars.declare(var, "k", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("codec");
    for (String bad : new String[] {"", "a b", "a=b", "a,b", "é", "a;b"}) {
      assertThatThrownBy(() -> BaggageVars.declare(var, bad))
          .as("key \"%s\"", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("\"" + bad + "\" is not a W3C baggage key");
    }
    String key = freshKey("taken");
    BaggageVars.declare(var, key);
    assertThatThrownBy(() -> BaggageVars.declare(var, freshKey("other")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is declared already, as baggage key \"" + key + "\"");
    assertThatThrownBy(() -> BaggageVars.declare(ContextVar.named("w"), key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key \"" + key + "\" is declared already, for ContextVar");
    assertThatThrownBy(() -> BaggageVars.Codec.of(null, String::valueOf))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("encode");
  }
}
