package org.contextvars4j.examples.shop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small instance of the main demo: the four service JVMs, a few hundred requests with faults.
 * With propagation on, every value is right, every fault is accounted for and no pool thread is
 * left in a request's context; with it off, the same checks find wrong values, so they bite.
 */
class ShopDemoTest {

  @Test
  void fewHundredRequestsWithFaults_noWrongValue_everyFaultAccounted(@TempDir Path out)
      throws Exception {
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    System.out.println("ShopDemoTest: seed " + seed + " (replay with -Dcv4j.seed=" + seed + ")");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ShopDemo.Options options = new ShopDemo.Options(300, 16, seed, 0.2, 0.5, 30, 45, out, false);
    ShopDemo.Result result =
        ShopDemo.run(options, new PrintStream(printed, true, StandardCharsets.UTF_8));
    String report = printed.toString(StandardCharsets.UTF_8);
    System.out.print(report);

    ShopDemo.ModeRun on = result.on();
    ShopDemo.ModeRun off = result.off();
    assertThat(on.verifier().wrongSamples()).as("seed %d", seed).isEmpty();
    assertThat(on.verifier().wrong()).isZero();
    assertThat(on.verifier().failedRequests()).isZero();
    assertThat(on.requests()).isEqualTo(300);
    // Each answer: its id, its status, every step's count, and 9 values per observation.
    assertThat(on.verifier().checks()).isGreaterThan(300L * 9 * 16);
    assertThat(on.verifier().logLines()).isGreaterThan(300L * 16);
    Map<Fault, int[]> faults = on.verifier().faults();
    assertThat(faults.keySet()).containsExactlyInAnyOrder(Fault.values());
    faults.forEach(
        (fault, counts) -> {
          assertThat(counts[0]).as("%s injected", fault).isPositive();
          assertThat(counts[1]).as("%s accounted for", fault).isEqualTo(counts[0]);
        });
    assertThat(on.probes())
        .as("every pool of both services was probed")
        .anyMatch(p -> p.startsWith("orders\ttomcat\t"))
        .anyMatch(p -> p.startsWith("inventory\ttomcat\t"))
        .anyMatch(p -> p.startsWith("orders\tapplication\t"))
        .anyMatch(p -> p.startsWith("orders\tfull\t"))
        .anyMatch(p -> p.startsWith("orders\treactor-parallel\t"))
        .allMatch(p -> p.endsWith("\tclean"));
    assertThat(on.latencies()).hasSize(135);
    assertThat(off.latencies()).hasSize(135);
    assertThat(result.pairRatios()).hasSize(3).allMatch(r -> r > 0);
    assertThat(result.ok()).isTrue();

    // Without the library's propagation the same checks fail: they test what they claim.
    assertThat(off.verifier().wrong()).isPositive();
    assertThat(off.verifier().byMechanism().get("async")[1]).isPositive();
    assertThat(off.verifier().byMechanism().get("parallel")[1]).isPositive();
    assertThat(off.verifier().byMechanism().get("inventory")[1]).isPositive();
    assertThat(off.services()).allMatch(s -> s.contains("LogbackMDCAdapter"));
    assertThat(on.services()).allMatch(s -> s.contains("ContextMDCAdapter") && s.contains("in a ContextVar"));

    assertThat(report).contains("OK: 300 requests").contains("on / off");
    assertThat(Files.readString(result.page()))
        .contains("<svg")
        .contains("propagation on (135 requests)")
        .contains("<rect");
    assertThat(result.report()).exists();
  }
}
