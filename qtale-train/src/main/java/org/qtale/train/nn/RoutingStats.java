package org.qtale.train.nn;

/**
 * Per-layer routing statistics over the counted tokens (not padding, not reserved) of one or more batches: how often
 * a layer executed under the hard Gumbel decisions and under the clean argmax, the mean |logit gap|, and the mean
 * probability that Gumbel noise flips the clean decision, {@code P_flip(Δ) = 1 / (1 + e^{|Δ|})} (the difference of
 * two Gumbel samples is logistic, so this holds for any temperature).
 */
public final class RoutingStats {
    private final int layers;
    private final int startLayer;
    private final long[] tokens;
    private final long[] executed;
    private final long[] cleanExecuted;
    private final double[] absGap;
    private final double[] flip;
    private double tokenRatioSum;
    private long tokenCount;

    public RoutingStats(int layers, int startLayer) {
        this.layers = layers;
        this.startLayer = startLayer;
        tokens = new long[layers];
        executed = new long[layers];
        cleanExecuted = new long[layers];
        absGap = new double[layers];
        flip = new double[layers];
    }

    public static double flipProbability(double gap) {
        return 1 / (1 + Math.exp(Math.abs(gap)));
    }

    void add(int layer, boolean ran, float gap) {
        tokens[layer]++;
        if (ran) {
            executed[layer]++;
        }
        if (gap >= 0) {
            cleanExecuted[layer]++;
        }
        absGap[layer] += Math.abs(gap);
        flip[layer] += flipProbability(gap);
    }

    void addTokenRatio(double ratio) {
        tokenRatioSum += ratio;
        tokenCount++;
    }

    public void addAll(RoutingStats other) {
        for (int l = 0; l < layers; l++) {
            tokens[l] += other.tokens[l];
            executed[l] += other.executed[l];
            cleanExecuted[l] += other.cleanExecuted[l];
            absGap[l] += other.absGap[l];
            flip[l] += other.flip[l];
        }
        tokenRatioSum += other.tokenRatioSum;
        tokenCount += other.tokenCount;
    }

    public int layers() {
        return layers;
    }

    public int startLayer() {
        return startLayer;
    }

    /** Whether any token was counted. */
    public boolean isEmpty() {
        return tokenCount == 0;
    }

    /** The mean over tokens of the fraction of all layers executed (always-on layers count), as the rate loss sees it. */
    public double executionRatio() {
        return tokenCount == 0 ? Double.NaN : tokenRatioSum / tokenCount;
    }

    /** The fraction of routed (token, layer) decisions that executed. */
    public double routedExecutionRatio() {
        long run = 0;
        long all = 0;
        for (int l = startLayer; l < layers; l++) {
            run += executed[l];
            all += tokens[l];
        }
        return all == 0 ? Double.NaN : (double) run / all;
    }

    /** Layer l's execution ratio under the hard (noisy) decisions. */
    public double layerRatio(int l) {
        return tokens[l] == 0 ? Double.NaN : (double) executed[l] / tokens[l];
    }

    /** Layer l's execution ratio under the clean argmax ({@code Δ ≥ 0}). */
    public double cleanLayerRatio(int l) {
        return tokens[l] == 0 ? Double.NaN : (double) cleanExecuted[l] / tokens[l];
    }

    public double meanAbsGap(int l) {
        return tokens[l] == 0 ? Double.NaN : absGap[l] / tokens[l];
    }

    public double flipProbability(int l) {
        return tokens[l] == 0 ? Double.NaN : flip[l] / tokens[l];
    }

    /** Mean |Δ| over every routed decision. */
    public double meanAbsGap() {
        return pooled(absGap);
    }

    /** Mean P_flip over every routed decision. */
    public double flipProbability() {
        return pooled(flip);
    }

    private double pooled(double[] sums) {
        double sum = 0;
        long all = 0;
        for (int l = startLayer; l < layers; l++) {
            sum += sums[l];
            all += tokens[l];
        }
        return all == 0 ? Double.NaN : sum / all;
    }
}
