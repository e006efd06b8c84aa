package org.contextvars4j.slf4j;

import com.google.common.collect.testing.MapTestSuiteBuilder;
import com.google.common.collect.testing.TestStringMapGenerator;
import com.google.common.collect.testing.features.CollectionFeature;
import com.google.common.collect.testing.features.CollectionSize;
import com.google.common.collect.testing.features.MapFeature;
import java.util.Map;
import junit.framework.Test;
import junit.framework.TestSuite;

/**
 * Guava's {@code Map} contract suite, run against the copy that {@link
 * ContextMDCAdapter#getCopyOfContextMap()} returns: once as it comes (reading the MDC's shared
 * map), so that every mutator, view and iterator is tested across the switch to its own entries.
 */
public class LazyCopyMapContractTest {

  /** {@return the suite} JUnit 4 (through the vintage engine) runs a class's static suite(). */
  public static Test suite() {
    TestSuite suite = new TestSuite("LazyCopy");
    suite.addTest(
        MapTestSuiteBuilder.using(
                new TestStringMapGenerator() {
                  @Override
                  protected Map<String, String> create(Map.Entry<String, String>[] entries) {
                    // The MDC has no null key; a copy gets one only by a put, which makes it
                    // switch to its own entries: the suite's null-key cases test that path.
                    MdcMap shared = MdcMap.EMPTY;
                    boolean nullKey = false;
                    for (Map.Entry<String, String> entry : entries) {
                      if (entry.getKey() == null) {
                        nullKey = true;
                      } else {
                        shared = shared.with(entry.getKey(), entry.getValue());
                      }
                    }
                    LazyCopy copy = new LazyCopy(shared);
                    if (nullKey) {
                      for (Map.Entry<String, String> entry : entries) {
                        if (entry.getKey() == null) {
                          copy.put(null, entry.getValue());
                        }
                      }
                    }
                    return copy;
                  }
                })
            .named("LazyCopy over a shared map")
            .withFeatures(
                MapFeature.GENERAL_PURPOSE,
                MapFeature.ALLOWS_NULL_KEYS,
                MapFeature.ALLOWS_NULL_VALUES,
                MapFeature.ALLOWS_NULL_KEY_QUERIES,
                MapFeature.ALLOWS_ANY_NULL_QUERIES,
                CollectionFeature.SUPPORTS_ITERATOR_REMOVE,
                CollectionFeature.SERIALIZABLE,
                CollectionSize.ANY)
            .createTestSuite());
    return suite;
  }
}
