package org.contextvars4j.opentelemetry;

import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.Objects;
import java.util.function.Function;
import org.contextvars4j.ContextVar;

/**
 * Declares {@link ContextVar}s that cross services as W3C baggage entries: a variable declared
 * here is written into the {@code baggage} header of every outgoing request that {@link
 * #propagator()} injects, and in the receiving service it is bound to the value that arrived, in
 * the context of the request, as soon as the receiving side makes the extracted OpenTelemetry
 * context current. Neither handler has propagation code:
 *
 * {@snippet :
 * static final ContextVar<String> TENANT = BaggageVars.declare(ContextVar.named("tenant"), "tenant");
 *
 * // service A, in a request
 * TENANT.set("acme");
 * httpClient.send(request, ...);        // the instrumentation injects with BaggageVars.propagator()
 *
 * // service B, in the handler of that request
 * TENANT.get();                         // "acme"
 * }
 *
 * <h2>Activation</h2>
 *
 * Use {@link #propagator()} where OpenTelemetry's {@code W3CBaggagePropagator} would be used (with
 * {@code W3CTraceContextPropagator} beside it in a composite): it is that propagator, with the
 * declared variables as entries. On the receiving side the variables are bound by {@link
 * ContextVarsStorageProvider}'s storage when the extracted context (or one made from it, with a
 * server span, say) is made current, and they are reset when that scope is closed; without that
 * storage in use they are not bound.
 *
 * <h2>Behaviour</h2>
 *
 * <ul>
 *   <li>Sending: each declared variable bound where {@code inject} is called (in the current {@link
 *       org.contextvars4j.Context}) with a non-null value is written as its entry, replacing an
 *       entry of that key in OpenTelemetry's baggage; an unbound one leaves the baggage as it is.
 *   <li>Receiving: an entry of a declared key is decoded with the variable's codec; the entry
 *       stays in OpenTelemetry's baggage too. An entry the codec rejects (it throws) binds nothing
 *       and is logged at {@code FINE} on this class's logger: the value came from another
 *       service, and a bad one must not fail the request.
 *   <li>The values are bound once per received request: making current a context derived from
 *       the extracted one while the request's values are already in place (a child span's, say)
 *       does not bind them again over what the handler has set since.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe. Declare variables once, where they are created (a static initialiser), before
 * requests are served; a declaration is seen by every thread from then on.
 */
public final class BaggageVars {
  private BaggageVars() {}

  /**
   * Declares {@code var} to cross services as the baggage entry {@code key}, its values written
   * and read by {@code codec}.
   *
   * @param var the variable; not {@code null}, and not declared already
   * @param key the baggage key: a non-empty W3C baggage key (an HTTP token: letters, digits and
   *     {@code !#$%&'*+-.^_`|~}), not declared already for another variable
   * @param codec turns a value into the entry's text and back; not {@code null}
   * @param <T> the type of the variable's values
   * @return {@code var}, so that a declaration can initialise the variable's field
   * @throws NullPointerException if an argument is {@code null}
   * @throws IllegalArgumentException if {@code key} is not a valid baggage key, or {@code var} or
   *     {@code key} is declared already
   */
  public static <T> ContextVar<T> declare(ContextVar<T> var, String key, Codec<T> codec) {
    Objects.requireNonNull(var, "var");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(codec, "codec");
    Declared.add(new Declared.Declaration(var, key, codec));
    return var;
  }

  /**
   * Declares {@code var}, whose values are strings, to cross services as the baggage entry {@code
   * key}, its values sent as they are (the propagator percent-encodes what the header cannot
   * carry).
   *
   * @param var the variable; not {@code null}, and not declared already
   * @param key the baggage key; see {@link #declare(ContextVar, String, Codec)}
   * @return {@code var}
   * @throws NullPointerException if an argument is {@code null}
   * @throws IllegalArgumentException if {@code key} is not a valid baggage key, or {@code var} or
   *     {@code key} is declared already
   */
  public static ContextVar<String> declare(ContextVar<String> var, String key) {
    return declare(var, key, Codec.strings());
  }

  /**
   * {@return OpenTelemetry's W3C baggage propagator with the declared variables as entries} One
   * instance; use it in place of {@code W3CBaggagePropagator.getInstance()}.
   */
  public static TextMapPropagator propagator() {
    return BaggageVarsPropagator.INSTANCE;
  }

  /**
   * Turns a variable's value into the text of its baggage entry and back.
   *
   * <p>Implementations must be thread-safe: the propagator calls them on every request's thread.
   *
   * @param <T> the type of the values
   */
  public interface Codec<T> {

    /**
     * {@return the entry's text for {@code value}}
     *
     * @param value a bound, non-null value of the variable
     */
    String encode(T value);

    /**
     * {@return the value that {@code text} stands for}
     *
     * @param text the text of a received entry, percent-decoded; never {@code null}
     * @throws RuntimeException any, if {@code text} is not a value: the entry is then ignored
     */
    T decode(String text);

    /** {@return a codec of strings: the text is the value} */
    static Codec<String> strings() {
      return of(Function.identity(), Function.identity());
    }

    /**
     * {@return a codec of the two functions}
     *
     * @param encode the value to the text; not {@code null}
     * @param decode the text to the value; not {@code null}
     * @param <T> the type of the values
     * @throws NullPointerException if a function is {@code null}
     */
    static <T> Codec<T> of(Function<? super T, String> encode, Function<String, ? extends T> decode) {
      Objects.requireNonNull(encode, "encode");
      Objects.requireNonNull(decode, "decode");
      return new Codec<>() {
        @Override
        public String encode(T value) {
          return encode.apply(value);
        }

        @Override
        public T decode(String text) {
          return decode.apply(text);
        }
      };
    }
  }
}
