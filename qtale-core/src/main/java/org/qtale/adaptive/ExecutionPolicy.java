package org.qtale.adaptive;

/**
 * Decides from a router's probability whether a routed layer runs for a token. Layers without a router and the
 * reserved first positions always run; the policy is asked only about the others.
 */
public sealed interface ExecutionPolicy {
    /** Whether routed layer {@code layer} executes for the token at {@code position}, whose router gave {@code pExec}. */
    boolean executes(int layer, int position, float pExec);

    /** Every layer runs; routers are not evaluated. */
    record Dense() implements ExecutionPolicy {
        @Override
        public boolean executes(int layer, int position, float pExec) {
            return true;
        }
    }

    /** QTALE's post-training control: execute iff {@code p_exec ≥ θ}; θ = 0.5 is D-LLM's argmax (ties execute). */
    record Threshold(float theta) implements ExecutionPolicy {
        public Threshold {
            if (!(theta >= 0 && theta <= 1)) {
                throw new org.qtale.QtaleException("The execution threshold θ must be in [0, 1], got " + theta + ".");
            }
        }

        @Override
        public boolean executes(int layer, int position, float pExec) {
            return pExec >= theta;
        }
    }

    /**
     * For benchmarks: the routers still run (and cost what they cost), but a fixed share {@code ratio} of the routed
     * (token, layer) pairs executes, spread evenly by a low-discrepancy sequence over positions and layers.
     */
    record Forced(double ratio) implements ExecutionPolicy {
        public Forced {
            if (!(ratio >= 0 && ratio <= 1)) {
                throw new org.qtale.QtaleException("The forced execution ratio must be in [0, 1], got " + ratio + ".");
            }
        }

        @Override
        public boolean executes(int layer, int position, float pExec) {
            double u = position * 0.6180339887498949 + layer * 0.7548776662466927;
            return u - Math.floor(u) < ratio;
        }
    }

    static ExecutionPolicy dense() {
        return new Dense();
    }

    /** D-LLM's inference rule. */
    static ExecutionPolicy argmax() {
        return new Threshold(RouterConfig.ARGMAX_THRESHOLD);
    }

    static ExecutionPolicy threshold(float theta) {
        return new Threshold(theta);
    }
}
