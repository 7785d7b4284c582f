import { coachingDay } from "./coaching-day.ts";
import { coachingSaturation } from "./coaching-saturation.ts";
import { rollingDeploy } from "./rolling-deploy.ts";
import { saturation } from "./saturation.ts";
import type { Scenario } from "./scenario.ts";
import { storm } from "./storm.ts";

/** Every scenario by name. */
export const SCENARIOS: Record<Scenario["name"], Scenario> = {
  "coaching-day": coachingDay,
  saturation,
  "coaching-saturation": coachingSaturation,
  storm,
  "rolling-deploy": rollingDeploy,
};
