import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Decimal } from "../../core/money/money.js";
import { decimalFromJsonNumber, decimalToNumber } from "../../core/money/money.js";
import { VEHICLE_TYPES } from "../../core/quotes/emission-factors.js";
import { emissionsKg } from "../../core/quotes/emissions.js";
import type { Scope } from "../../core/scope.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { amountKg, errorResponses, idempotencyErrorResponses, subaccountHeader } from "./cnaught.schemas.js";

/** BaseQuoteParams: what every quote body takes besides its own inputs. */
const baseQuoteParams = {
  portfolio_id: z
    .string()
    .max(64)
    .nullish()
    .describe(
      "The quote will be for an order fulfilled from this portfolio. If not specified, the account's default portfolio will be used.",
    ),
  source: z
    .enum(["api", "checkout"])
    .nullish()
    .describe("Which price to quote: api (the default) for the Order API, checkout for Checkout Sessions"),
};

const QuoteParams = z.object({ amount_kg: amountKg, ...baseQuoteParams }).meta({ id: "QuoteParams" });

const distanceKm = (what: string) => z.number().describe(`Distance of ${what}, in km`);
const freightMassKg = z.number().describe("Mass of freight, in kg");

type BaseQuote = { portfolio_id?: string | null; source?: "api" | "checkout" | null };

interface TypedQuote {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  deprecated?: boolean;
  body: z.ZodType;
  kg: (body: unknown) => Decimal;
}

/** Pairs a body schema with its calculator: the route validates with `body`, so `kg` gets that shape. */
const typedQuote = <S extends z.ZodType>(
  quote: Omit<TypedQuote, "body" | "kg"> & { body: S; kg: (body: z.infer<S>) => Decimal },
): TypedQuote => quote as TypedQuote;

/** The typed quotes: path, CNaught's operationId, body, and how the body becomes kg of CO2e. */
const TYPED_QUOTES: TypedQuote[] = [
  typedQuote({
    path: "/quotes/flight",
    operationId: "RequestFlightQuote",
    summary: "Get quote for flight emissions",
    description: "Quotes the credits for one passenger's flight of the given distance.",
    body: z.object({ distance_km: distanceKm("flight"), ...baseQuoteParams }).meta({ id: "FlightQuoteParams" }),
    kg: (b) => emissionsKg.flight({ distanceKm: decimalFromJsonNumber(b.distance_km) }),
  }),
  typedQuote({
    path: "/quotes/train",
    operationId: "RequestTrainQuote",
    summary: "Get quote for train emissions",
    description: "Quotes the credits for one passenger's train journey of the given distance.",
    body: z.object({ distance_km: distanceKm("train trip"), ...baseQuoteParams }).meta({ id: "TrainQuoteParams" }),
    kg: (b) => emissionsKg.train({ distanceKm: decimalFromJsonNumber(b.distance_km) }),
  }),
  typedQuote({
    path: "/quotes/air-freight",
    operationId: "RequestAirFreightQuote",
    summary: "Get quote for air freight emissions",
    description: "Quotes the credits for shipping the given mass of freight the given distance by air.",
    body: z
      .object({ freight_mass_kg: freightMassKg, distance_km: distanceKm("air freight shipment"), ...baseQuoteParams })
      .meta({ id: "AirFreightQuoteParams" }),
    kg: (b) =>
      emissionsKg.airFreight({
        freightMassKg: decimalFromJsonNumber(b.freight_mass_kg),
        distanceKm: decimalFromJsonNumber(b.distance_km),
      }),
  }),
  typedQuote({
    path: "/quotes/ground-freight",
    operationId: "RequestGroundFreightQuote",
    summary: "Get quote for ground freight emissions",
    description: "Quotes the credits for shipping the given mass of freight the given distance by road.",
    body: z
      .object({
        freight_mass_kg: freightMassKg,
        distance_km: distanceKm("ground freight shipment"),
        ...baseQuoteParams,
      })
      .meta({ id: "GroundFreightQuoteParams" }),
    kg: (b) =>
      emissionsKg.groundFreight({
        freightMassKg: decimalFromJsonNumber(b.freight_mass_kg),
        distanceKm: decimalFromJsonNumber(b.distance_km),
      }),
  }),
  typedQuote({
    path: "/quotes/ground-transport",
    operationId: "RequestGroundTransportQuote",
    summary: "Get quote for ground transportation emissions",
    description: "Quotes the credits for one vehicle's trip of the given distance.",
    body: z
      .object({
        distance_km: distanceKm("ground transportation"),
        vehicle_type: z
          .enum(VEHICLE_TYPES)
          .describe(
            "The type of vehicle used. Must be one of passenger_car_van_or_suv, small_bus, school_bus, or coach_bus.",
          ),
        ...baseQuoteParams,
      })
      .meta({ id: "GroundTransportQuoteParams" }),
    kg: (b) => emissionsKg.groundTransport({ distanceKm: decimalFromJsonNumber(b.distance_km) }, b.vehicle_type),
  }),
  typedQuote({
    path: "/quotes/office-space",
    operationId: "RequestOfficeSpaceQuote",
    summary: "Get quote for office space emissions",
    description: "Quotes the credits for one year of an office of the given floor area.",
    body: z
      .object({ square_footage: z.number().describe("Floor area of the office, in square feet"), ...baseQuoteParams })
      .meta({ id: "OfficeSpaceQuoteParams" }),
    kg: (b) => emissionsKg.officeSpace({ squareFootage: decimalFromJsonNumber(b.square_footage) }),
  }),
  typedQuote({
    path: "/quotes/ride",
    operationId: "RequestRideQuote",
    summary: "Get quote for vehicle ride emissions",
    description:
      "[Deprecated] Use /quotes/ground-transport with passenger_car_van_or_suv as the vehicle_type: this answers exactly what that does.",
    deprecated: true,
    body: z.object({ distance_km: distanceKm("ride"), ...baseQuoteParams }).meta({ id: "RideQuoteParams" }),
    kg: (b) =>
      emissionsKg.groundTransport({ distanceKm: decimalFromJsonNumber(b.distance_km) }, "passenger_car_van_or_suv"),
  }),
];

const Quote = z.object({ amount_kg: z.number(), price_usd_cents: z.number().int() }).meta({ id: "Quote" });

// A quote writes nothing: with an Idempotency-Key its answer is stored after the handler, in its own statement.
export const quotesRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services, idempotency }) => {
  app.post(
    "/quotes",
    {
      schema: {
        operationId: "GetPriceQuote",
        summary: "Get a price quote",
        tags: ["Quotes"],
        headers: subaccountHeader.extend(idempotency.header.shape),
        body: QuoteParams,
        response: {
          200: Quote,
          400: errorResponses[400],
          401: errorResponses[401],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request) => {
      const amount = decimalFromJsonNumber(request.body.amount_kg);
      const quote = await services.portfolios.quote(request.scope, {
        amountKg: amount,
        portfolioId: request.body.portfolio_id,
        source: request.body.source ?? "api",
      });
      return { amount_kg: decimalToNumber(amount), price_usd_cents: quote.priceUsdCents };
    },
  );

  /** A typed quote: its kilograms, priced like the generic quote. */
  const priced = async (scope: Scope, amount: Decimal, body: BaseQuote) => {
    const quote = await services.portfolios.quote(scope, {
      amountKg: amount,
      portfolioId: body.portfolio_id,
      source: body.source ?? "api",
    });
    return { amount_kg: decimalToNumber(amount), price_usd_cents: quote.priceUsdCents };
  };

  // CNaught's client sends typed quotes no Idempotency-Key; like every POST here they accept one
  // (as POST /quotes does), its answer stored after the handler.
  for (const typed of TYPED_QUOTES) {
    app.post(
      typed.path,
      {
        schema: {
          operationId: typed.operationId,
          summary: typed.summary,
          description: typed.description,
          ...(typed.deprecated ? { deprecated: true } : {}),
          tags: ["Quotes"],
          headers: subaccountHeader.extend(idempotency.header.shape),
          body: typed.body,
          response: {
            200: Quote,
            400: errorResponses[400],
            401: errorResponses[401],
            ...idempotencyErrorResponses,
            429: errorResponses[429],
          },
        },
      },
      async (request) => priced(request.scope, typed.kg(request.body), request.body as BaseQuote),
    );
  }
};
