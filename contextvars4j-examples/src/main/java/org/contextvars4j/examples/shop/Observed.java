package org.contextvars4j.examples.shop;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * What one step of a request's work saw where it ran: the request's variables, the MDC, and the
 * current span's trace. {@code forId} is the request the step works for, as the code knows it
 * (a parameter or a captured local), never as the context says: the checks compare the two.
 *
 * @param step which step, {@code mechanism.detail}
 * @param thread the thread the step ran on
 * @param forId the request the step works for
 * @param requestId {@code REQUEST_ID.get()}
 * @param tenant {@code TENANT.get()}
 * @param user {@code USER.get()}
 * @param stage {@code STAGE.get()}
 * @param traceId the current span's trace id, {@code -} without a valid span
 * @param mdcRequestId the MDC's {@code request_id}
 * @param mdcTenant the MDC's {@code tenant}
 * @param mdcTraceId the MDC's {@code traceId}
 */
record Observed(
    String step,
    String thread,
    String forId,
    String requestId,
    String tenant,
    String user,
    String stage,
    String traceId,
    String mdcRequestId,
    String mdcTenant,
    String mdcTraceId) {

  private static final String FIELD_SEPARATOR = "\t";

  Observed {
    for (String field :
        List.of(step, thread, forId, requestId, tenant, user, stage, traceId, mdcRequestId, mdcTenant,
            mdcTraceId)) {
      if (field.contains(FIELD_SEPARATOR) || field.contains("\n")) {
        throw new IllegalArgumentException("a field holds a tab or a line break: " + field);
      }
    }
  }

  /**
   * Observes what the current context holds for the step, logs the step's line and returns the
   * observation.
   *
   * @param log the service's logger: the line carries the MDC, printed by the log pattern
   * @param step the step's name
   * @param forId the request the step works for, as the code knows it
   */
  static Observed record(Logger log, String step, String forId) {
    SpanContext span = Span.current().getSpanContext();
    Observed seen =
        new Observed(
            step,
            Thread.currentThread().getName(),
            forId,
            ShopVars.REQUEST_ID.get(),
            ShopVars.TENANT.get(),
            ShopVars.USER.get(),
            ShopVars.STAGE.get(),
            span.isValid() ? span.getTraceId() : ShopVars.UNBOUND,
            orUnbound(MDC.get(ShopVars.MDC_REQUEST_ID)),
            orUnbound(MDC.get(ShopVars.MDC_TENANT)),
            orUnbound(MDC.get(ShopVars.MDC_TRACE_ID)));
    log.info("step={} for={}", step, forId);
    return seen;
  }

  private static String orUnbound(@Nullable String value) {
    return value == null || value.isEmpty() ? ShopVars.UNBOUND : value;
  }

  /** {@return the observation as one line of a response} */
  String toLine() {
    return String.join(
        FIELD_SEPARATOR,
        step,
        thread,
        forId,
        requestId,
        tenant,
        user,
        stage,
        traceId,
        mdcRequestId,
        mdcTenant,
        mdcTraceId);
  }

  /**
   * {@return the observation a line of a response holds}
   *
   * @param line a line that {@link #toLine()} wrote
   * @throws IllegalArgumentException if it is not one
   */
  static Observed parse(String line) {
    String[] f = Objects.requireNonNull(line, "line").split(FIELD_SEPARATOR, -1);
    if (f.length != 11) {
      throw new IllegalArgumentException("not an observation (" + f.length + " fields): " + line);
    }
    return new Observed(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
  }

  /** {@return the mechanism the step exercises: the part of its name before the first dot} */
  String mechanism() {
    int dot = step.indexOf('.');
    return dot < 0 ? step : step.substring(0, dot);
  }
}
