/**
 * The public API of Describe Anything on the JVM: {@link io.damjava.api.DescribeAnything} and the
 * value types it takes and returns. Depends on nothing but the JDK.
 */
package io.damjava.api;
