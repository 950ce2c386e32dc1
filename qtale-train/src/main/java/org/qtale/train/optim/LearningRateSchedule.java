package org.qtale.train.optim;

/** Linear warm-up from 0 to the peak rate, then half a cosine down to {@code minRatio · peak} at the last step. */
public record LearningRateSchedule(float peak, int warmupSteps, int totalSteps, float minRatio) {
    public LearningRateSchedule {
        if (totalSteps < 1 || warmupSteps < 0 || warmupSteps > totalSteps || peak <= 0 || minRatio < 0 || minRatio > 1) {
            throw new IllegalArgumentException("Invalid learning-rate schedule: peak " + peak + ", warm-up " + warmupSteps
                    + ", total " + totalSteps + ", minimum ratio " + minRatio);
        }
    }

    /** The rate for step {@code step} (0-based). */
    public float at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        int decaySteps = totalSteps - warmupSteps;
        double progress = decaySteps <= 1 ? 1.0 : Math.min(1.0, (double) (step - warmupSteps) / (decaySteps - 1));
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return (float) (peak * (minRatio + (1 - minRatio) * cosine));
    }
}
