package org.contextvars4j.examples.shop;

import java.util.HexFormat;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * One request as the load generator sends it.
 *
 * @param index its number in its mode's run
 * @param givenId the {@code X-Request-Id} it carries, or {@code null} for orders to generate one
 * @param tenant its {@code X-Tenant}
 * @param user its {@code X-User}
 * @param traceId the trace of its {@code traceparent}
 * @param parentSpanId the parent span of its {@code traceparent}
 * @param item the item ordered
 * @param fault the fault it asks for
 */
record Sent(
    int index,
    @Nullable String givenId,
    String tenant,
    String user,
    String traceId,
    String parentSpanId,
    String item,
    Fault fault) {

  /** How many tenants and users the requests spread over: many requests share each. */
  static final int TENANTS = 40;

  static final int USERS = 400;

  /** The share of requests that carry no request id, and of each fault. */
  static final double NO_ID_SHARE = 0.1;

  /**
   * {@return a random request}
   *
   * @param index its number
   * @param mode the mode it is sent to, part of its id, so that ids are unique in the run
   * @param faultShare the share of requests with a fault, spread evenly over the four faults
   * @param random the run's random numbers
   */
  static Sent random(int index, String mode, double faultShare, Random random) {
    byte[] trace = new byte[16];
    byte[] parent = new byte[8];
    random.nextBytes(trace);
    random.nextBytes(parent);
    Fault fault = Fault.NONE;
    if (random.nextDouble() < faultShare) {
      Fault[] faults = {Fault.THROW, Fault.TIMEOUT, Fault.CANCEL, Fault.FULL};
      fault = faults[random.nextInt(faults.length)];
    }
    return new Sent(
        index,
        random.nextDouble() < NO_ID_SHARE ? null : mode + "-" + index,
        "t" + random.nextInt(TENANTS),
        "u" + random.nextInt(USERS),
        HexFormat.of().formatHex(trace),
        HexFormat.of().formatHex(parent),
        "sku-" + random.nextInt(100),
        fault);
  }

  /** {@return the {@code traceparent} header} */
  String traceparent() {
    return "00-" + traceId + "-" + parentSpanId + "-01";
  }
}
