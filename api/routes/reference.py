from fastapi import APIRouter, status

from api.deps import Admin, SessionDep
from schemas.common import Filter
from schemas.reference import BrandCreate, BrandPublic, BrandUpdate, RegionNode
from services.reference import brands, regions

router = APIRouter(tags=["reference"])


@router.get("/regions", response_model=list[RegionNode])
def region_tree(session: SessionDep, root: Filter | None = None) -> list[RegionNode]:
    """Public. Administrative divisions as a tree (optionally from one `root` code)."""
    return regions.region_tree(session, root)


@router.get("/brands", response_model=list[BrandPublic])
def list_brands(session: SessionDep, include_inactive: bool = False) -> list[BrandPublic]:
    """Public. Courier brands an outlet may serve."""
    return [
        BrandPublic.model_validate(b)
        for b in brands.list_brands(session, include_inactive=include_inactive)
    ]


@router.post("/brands", response_model=BrandPublic, status_code=status.HTTP_201_CREATED)
def create_brand(session: SessionDep, admin: Admin, body: BrandCreate) -> BrandPublic:
    """City-level admins (the list is city-wide; 403 `outside_jurisdiction` for a county's)."""
    return BrandPublic.model_validate(
        brands.create_brand(session, actor=admin, code=body.code, name=body.name)
    )


@router.patch("/brands/{code}", response_model=BrandPublic)
def update_brand(session: SessionDep, admin: Admin, code: Filter, body: BrandUpdate) -> BrandPublic:
    """City-level admins: rename or (de)activate a brand for the whole city."""
    return BrandPublic.model_validate(
        brands.update_brand(session, code, actor=admin, **body.model_dump(exclude_unset=True))
    )
