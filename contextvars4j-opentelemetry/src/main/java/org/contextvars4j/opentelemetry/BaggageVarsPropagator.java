package org.contextvars4j.opentelemetry;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.BaggageBuilder;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Arrays;
import java.util.Collection;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.contextvars4j.ContextVar;
import org.jspecify.annotations.Nullable;

/**
 * OpenTelemetry's {@link W3CBaggagePropagator} with the variables declared by {@link BaggageVars}
 * as entries; see there. The header's format is OpenTelemetry's propagator's alone.
 */
final class BaggageVarsPropagator implements TextMapPropagator {
  static final BaggageVarsPropagator INSTANCE = new BaggageVarsPropagator();

  private static final Logger logger = Logger.getLogger(BaggageVars.class.getName());
  private static final TextMapPropagator W3C = W3CBaggagePropagator.getInstance();

  private BaggageVarsPropagator() {}

  @Override
  public Collection<String> fields() {
    return W3C.fields();
  }

  @Override
  public <C> void inject(Context context, @Nullable C carrier, TextMapSetter<C> setter) {
    Declared.Declaration[] declared = Declared.all();
    BaggageBuilder builder = null;
    for (Declared.Declaration declaration : declared) {
      Object value = declaration.boundValue();
      if (value != null) {
        if (builder == null) {
          builder = Baggage.fromContext(context).toBuilder();
        }
        builder.put(declaration.key(), declaration.encode(value));
      }
    }
    W3C.inject(builder == null ? context : context.with(builder.build()), carrier, setter);
  }

  @Override
  public <C> Context extract(Context context, @Nullable C carrier, TextMapGetter<C> getter) {
    Context extracted = W3C.extract(context, carrier, getter);
    Declared.Declaration[] declared = Declared.all();
    if (declared.length == 0) {
      return extracted;
    }
    Baggage baggage = Baggage.fromContextOrNull(extracted);
    if (baggage == null || baggage.isEmpty()) {
      return extracted;
    }
    ContextVar<?>[] vars = new ContextVar<?>[declared.length];
    Object[] values = new Object[declared.length];
    int found = 0;
    for (Declared.Declaration declaration : declared) {
      String text = baggage.getEntryValue(declaration.key());
      if (text != null) {
        Object value;
        try {
          value = declaration.codec().decode(text);
        } catch (RuntimeException rejected) {
          logger.log(
              Level.FINE,
              rejected,
              () ->
                  "Ignoring the received baggage entry \""
                      + declaration.key()
                      + "\": the codec of "
                      + declaration.var()
                      + " rejected its value");
          continue;
        }
        vars[found] = declaration.var();
        values[found] = value;
        found++;
      }
    }
    if (found == 0) {
      return extracted;
    }
    return extracted.with(
        InboundVars.KEY,
        new InboundVars(Arrays.copyOf(vars, found), Arrays.copyOf(values, found)));
  }

  @Override
  public String toString() {
    return "BaggageVars.propagator()";
  }
}
