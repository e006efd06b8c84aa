package org.contextvars4j.examples.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The two services under 500 concurrent requests: every value each place saw is its own
 * request's, and every span's parent is right.
 */
class TwoServicesTest {

  @Test
  void fiveHundredConcurrentRequests_noMismatch() throws Exception {
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    System.out.println("TwoServicesTest: seed " + seed + " (replay with -Dcv4j.seed=" + seed + ")");
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    TwoServices.Run run =
        TwoServices.run(500, 500, seed, new PrintStream(report, true, StandardCharsets.UTF_8));
    System.out.print(report.toString(StandardCharsets.UTF_8));

    assertThat(run.mismatches()).isEmpty();
    // Per request: its status, 8 values, 4 span links (3 parents and the trace's span count).
    assertThat(run.checks()).isEqualTo(500L * (1 + 8 + 4));
    assertThat(run.sample())
        .contains("baggage user=u")
        .containsPattern("TENANT.get\\(\\)=t\\d+")
        .containsPattern("on a virtual thread: \\(unbound\\)/t\\d+/[0-9a-f]{32}/u\\d+");
  }
}
