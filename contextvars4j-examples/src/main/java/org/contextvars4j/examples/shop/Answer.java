package org.contextvars4j.examples.shop;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What came back for one request.
 *
 * @param sent the request
 * @param status the HTTP status, 0 if no response came
 * @param requestId the {@code X-Request-Id} of the answer, the id orders used
 * @param seen the observations in the answer, orders' and inventory's
 * @param nanos the time from sending to the last byte of the answer
 * @param failure why no answer came, or {@code null}
 */
record Answer(
    Sent sent,
    int status,
    String requestId,
    List<Observed> seen,
    long nanos,
    @Nullable String failure) {}
